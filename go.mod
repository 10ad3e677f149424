module github.com/vnfsd/vnfsd

go 1.26.8

require (
	github.com/vmware/go-nfs-client v0.0.0-20190605212624-d43b92724c1b
	go.etcd.io/bbolt v1.5.0
	golang.org/x/sys v0.49.0
)

require github.com/rasky/go-xdr v0.0.0-20170124162913-1a41d1a06c93 // indirect
