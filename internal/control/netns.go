package control

import "github.com/vnfsd/vnfsd/internal/vserver"

// checkNetnses checks that the network namespace of every listener that
// names one exists and is a network namespace this process can enter.
func checkNetnses(ls []Listener) error {
	seen := map[string]bool{}
	for _, l := range ls {
		if l.Netns == "" || seen[l.Netns] {
			continue
		}
		seen[l.Netns] = true
		if err := vserver.CheckNetns(l.Netns); err != nil {
			return invalidf("listener %s: %v", l, err)
		}
	}
	return nil
}
