package control

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vnfsd/vnfsd/internal/nsm"
	"github.com/vnfsd/vnfsd/internal/store"
)

// Store keys (see the package documentation).
const (
	PrefixServer = "/vserver/"
	PrefixNSM    = "/nsm/" // + ns uuid: the server's NSM state number and monitor list (nsm.Marshal)
	// PrefixNFS4Recovery + ns uuid + "/" + hex SHA-256 of a client owner:
	// the NFSv4 clients that may reclaim state after the server restarts.
	PrefixNFS4Recovery = "/nfs4rec/"
	PrefixTokenByID    = "/token/by-id/"
	PrefixTokenIndex   = "/token/by-ns/"
)

// recordVersion is the format of the records below; a record of another
// version is refused rather than misread.
const recordVersion = 1

// serverRecord is the stored configuration of one namespace's server.
type serverRecord struct {
	V      int          `json:"v"`
	Config ServerConfig `json:"config"`
	// Exports in the order they were added.
	Exports []Export `json:"exports"`
	// NextExportID is the ID the next export gets; IDs are never reused
	// while the record (and the handle key) lives.
	NextExportID uint32    `json:"next_export_id"`
	Created      time.Time `json:"created"`
}

// tokenRecord is one API token (the root token lives in its file only).
type tokenRecord struct {
	V    int    `json:"v"`
	ID   string `json:"id"`
	Name string `json:"name"`
	// NS is the UUID of the namespace the token is bound to.
	NS string `json:"ns"`
	// Hash is the hex SHA-256 of the whole token.
	Hash    string    `json:"hash"`
	Created time.Time `json:"created"`
}

func serverKey(uuid string) string        { return PrefixServer + uuid }
func tokenKey(id string) string           { return PrefixTokenByID + id }
func tokenIndexPrefix(uuid string) string { return PrefixTokenIndex + uuid + "/" }
func tokenIndexKey(uuid, id string) string {
	return tokenIndexPrefix(uuid) + id
}

func newServerRecord() *serverRecord {
	return &serverRecord{Config: DefaultServerConfig(), Exports: []Export{}, NextExportID: 1, Created: time.Now().UTC()}
}

func decodeServer(kv store.KV) (*serverRecord, error) {
	var r serverRecord
	if err := json.Unmarshal(kv.Value, &r); err != nil {
		return nil, fmt.Errorf("control: corrupt record %s: %v", kv.Key, err)
	}
	if r.V != recordVersion {
		return nil, fmt.Errorf("control: record %s has version %d, this version reads %d", kv.Key, r.V, recordVersion)
	}
	if r.Exports == nil {
		r.Exports = []Export{}
	}
	if r.Config.Listeners == nil {
		r.Config.Listeners = []Listener{}
	}
	return &r, nil
}

// getServer reads the server record of a namespace; nil if it has none.
func getServer(tx store.Tx, uuid string) (*serverRecord, error) {
	kv, ok, err := tx.Get(serverKey(uuid))
	if err != nil || !ok {
		return nil, err
	}
	return decodeServer(kv)
}

func putServer(tx store.Tx, uuid string, r *serverRecord) error {
	r.V = recordVersion
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if len(b) > store.MaxValueSize {
		return invalidf("the server's configuration would take %d bytes, over the limit of %d: remove exports or client networks", len(b), store.MaxValueSize)
	}
	return tx.Put(serverKey(uuid), b)
}

// allServers reads every server record by namespace UUID.
func allServers(tx store.Tx) (map[string]*serverRecord, error) {
	kvs, err := tx.List(PrefixServer)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*serverRecord, len(kvs))
	for _, kv := range kvs {
		r, err := decodeServer(kv)
		if err != nil {
			return nil, err
		}
		out[kv.Key[len(PrefixServer):]] = r
	}
	return out, nil
}

func decodeToken(kv store.KV) (*tokenRecord, error) {
	var r tokenRecord
	if err := json.Unmarshal(kv.Value, &r); err != nil {
		return nil, fmt.Errorf("control: corrupt record %s: %v", kv.Key, err)
	}
	if r.V != recordVersion {
		return nil, fmt.Errorf("control: record %s has version %d, this version reads %d", kv.Key, r.V, recordVersion)
	}
	return &r, nil
}

func putToken(tx store.Tx, r *tokenRecord) error {
	r.V = recordVersion
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := tx.Put(tokenKey(r.ID), b); err != nil {
		return err
	}
	return tx.Put(tokenIndexKey(r.NS, r.ID), nil)
}

// deleteToken removes a token and its index entry.
func deleteToken(tx store.Tx, r *tokenRecord) error {
	if _, err := tx.Delete(tokenKey(r.ID)); err != nil {
		return err
	}
	_, err := tx.Delete(tokenIndexKey(r.NS, r.ID))
	return err
}

// deleteNamespaceRecords removes what belongs to a namespace that is
// being deleted: its server record and its tokens.
func deleteNamespaceRecords(tx store.Tx, uuid string) error {
	if _, err := tx.Delete(serverKey(uuid)); err != nil {
		return err
	}
	if _, err := tx.Delete(PrefixNSM + uuid); err != nil {
		return err
	}
	if _, err := tx.DeletePrefix(nfs4RecoveryPrefix(uuid)); err != nil {
		return err
	}
	idx, err := tx.List(tokenIndexPrefix(uuid))
	if err != nil {
		return err
	}
	for _, kv := range idx {
		if _, err := tx.Delete(tokenKey(kv.Key[len(tokenIndexPrefix(uuid)):])); err != nil {
			return err
		}
	}
	if len(idx) > 0 {
		if _, err := tx.DeletePrefix(tokenIndexPrefix(uuid)); err != nil {
			return err
		}
	}
	return nil
}

// nsmState keeps a server's NSM state number and monitor list (the
// clients that hold NLM locks, to be notified when the server restarts)
// in the control store, so they follow the server across restarts of
// vnfsd and are deleted with it. It implements nsm.StateStore.
type nsmState struct {
	st  store.Store
	key string
}

func (n nsmState) Load() (int32, []nsm.Host, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kv, ok, err := n.st.Get(ctx, n.key)
	if err != nil || !ok {
		return 0, nil, err
	}
	return nsm.Unmarshal(kv.Value)
}

func (n nsmState) Save(state int32, hosts []nsm.Host) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := nsm.Marshal(state, hosts)
	return n.st.Update(ctx, func(tx store.Tx) error { return tx.Put(n.key, b) })
}

// nfs4RecoveryPrefix is the key prefix of a server's NFSv4 recovery
// records.
func nfs4RecoveryPrefix(uuid string) string { return PrefixNFS4Recovery + uuid + "/" }
