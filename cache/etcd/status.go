package etcd

import (
	"context"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Health is what `status` says of the cluster.
type Health struct {
	Endpoints []string
	// Reachable: a linearizable read succeeded (a quorum answers us).
	Reachable bool
	// Answering is how many endpoints answered a status request with a
	// leader; Healthy is all of them.
	Answering int
	Healthy   bool
	// Err is why the cluster is not reachable (unreachable, or refusing).
	Err error
}

// Health asks every endpoint for its status and the cluster for a
// linearizable read, each within DialTimeout. It does not make the Fleet
// fall back to the local level, and warns nothing.
func (f *Fleet) Health() Health {
	h := Health{Endpoints: f.Endpoints()}
	c, err := f.connect()
	if err != nil {
		h.Err = err
		return h
	}
	ctx, cancel := context.WithTimeout(context.Background(), f.cfg.DialTimeout)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ep := range f.cfg.Endpoints {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := c.Status(ctx, ep)
			if err == nil && st.Leader != 0 {
				mu.Lock()
				h.Answering++
				mu.Unlock()
			}
		}()
	}
	_, err = c.Get(ctx, f.cfg.Prefix+"status", clientv3.WithCountOnly())
	wg.Wait()
	if err != nil {
		h.Err = f.failure(err, false)
		return h
	}
	h.Reachable = true
	h.Healthy = h.Answering == len(f.cfg.Endpoints)
	return h
}
