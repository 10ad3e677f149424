package nfs3

import (
	"sync"
	"testing"

	"github.com/vnfsd/vnfsd/internal/vfs"
)

// fakeDelegs holds delegations on a set of object ids and counts the
// recalls asked.
type fakeDelegs struct {
	mu      sync.Mutex
	held    map[string]bool
	recalls int
}

func (d *fakeDelegs) Any() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.held) > 0
}

func (d *fakeDelegs) Conflict(export uint32, id vfs.ID) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.held[string(id)] {
		d.recalls++
		return true
	}
	return false
}

// TestDelegationsJukebox: WRITE, SETATTR, REMOVE, RENAME (either name)
// and LINK of a file with NFSv4 delegations out answer NFS3ERR_JUKEBOX
// and start the recall; other files, and the same file once the
// delegation is back, are served.
func TestDelegationsJukebox(t *testing.T) {
	f := newFixture(t, 0)
	d := &fakeDelegs{held: map[string]bool{}}
	f.srv.delegs = d
	file := f.mustCreate(root, f.rw(), "held", 0o644)
	other := f.mustCreate(root, f.rw(), "free", 0o644)
	_, id, err := f.codec.Decode(file)
	if err != nil {
		t.Fatal(err)
	}
	d.held[string(id)] = true

	expect(t, "write", f.write(root, file, 0, []byte("x"), vfs.FileSync).Status, NFS3ErrJukebox)
	expect(t, "setattr", f.setattr(root, file, Sattr3{Valid: vfs.SetMode, Mode: 0o600}, nil).Status, NFS3ErrJukebox)
	expect(t, "remove", f.remove(root, f.rw(), "held").Status, NFS3ErrJukebox)
	var rn RENAME3res
	f.call(ProcRENAME, root, &RENAME3args{From: Diropargs3{Dir: f.rw(), Name: "held"}, To: Diropargs3{Dir: f.rw(), Name: "x"}}, &rn)
	expect(t, "rename from", rn.Status, NFS3ErrJukebox)
	f.call(ProcRENAME, root, &RENAME3args{From: Diropargs3{Dir: f.rw(), Name: "free"}, To: Diropargs3{Dir: f.rw(), Name: "held"}}, &rn)
	expect(t, "rename onto", rn.Status, NFS3ErrJukebox)
	var ln LINK3res
	f.call(ProcLINK, root, &LINK3args{File: file, Link: Diropargs3{Dir: f.rw(), Name: "l"}}, &ln)
	expect(t, "link", ln.Status, NFS3ErrJukebox)
	if d.recalls != 6 {
		t.Errorf("%d recalls asked, want 6", d.recalls)
	}
	expect(t, "write other", f.write(root, other, 0, []byte("x"), vfs.FileSync).Status, NFS3OK)
	expect(t, "read", f.read(root, file, 0, 10).Status, NFS3OK)

	delete(d.held, string(id))
	expect(t, "write after return", f.write(root, file, 0, []byte("x"), vfs.FileSync).Status, NFS3OK)
	expect(t, "remove after return", f.remove(root, f.rw(), "held").Status, NFS3OK)
}
