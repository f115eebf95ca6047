package main

import (
	"context"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
	"github.com/veeam-tools/veeam-credential-helper/helper/hit"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

// hitSource is the front's cli.Source: a clean cache hit, else cli.ErrMiss,
// and the engine answers instead. It reads the configuration's index
// (package hit), never the file: anything the index cannot answer is a
// miss, and the engine reads and validates the file.
type hitSource struct {
	c  *cli.Call
	ix *hit.Index
}

func newHitSource(c *cli.Call) cli.Source { return &hitSource{c: c} }

// index opens the index once per call: the front's one seam to the
// configuration.
func (s *hitSource) index() (*hit.Index, error) {
	if s.ix == nil {
		ix, ok := hit.Open(s.c.ConfigPath())
		if !ok {
			return nil, cli.ErrMiss
		}
		s.ix = ix
	}
	return s.ix, nil
}

func (s *hitSource) Credential(_ context.Context, r cli.Request) (protocol.Credential, error) {
	if r.ForceRefresh {
		return protocol.Credential{}, cli.ErrMiss
	}
	ix, err := s.index()
	if err != nil {
		return protocol.Credential{}, err
	}
	p, ok := ix.Profile(r.Profile)
	if !ok {
		return protocol.Credential{}, cli.ErrMiss
	}
	e, ok := hit.Lookup(ix.Cache(), p, r.MinValid, time.Now())
	if !ok {
		return protocol.Credential{}, cli.ErrMiss
	}
	return p.Credential(e), nil
}

func (s *hitSource) GitProfile(req protocol.GitRequest, flagProfile, envProfile string) (string, error) {
	ix, err := s.index()
	if err != nil {
		return "", err
	}
	p, ok := ix.GitProfileFor(req.Protocol, req.Host, req.Username, flagProfile, envProfile)
	if !ok {
		return "", cli.ErrMiss
	}
	if p == nil {
		return "", nil // not a Veeam host
	}
	return p.Name, nil
}

func (s *hitSource) Invalidate(context.Context, string, string) error { return cli.ErrMiss }

// ExecInfo reads KUBERNETES_EXEC_INFO with the strict reader of package
// hit. Interactive stays false: the front never prompts.
func (s *hitSource) ExecInfo(env string) (protocol.ExecInfo, error) {
	v := hit.ExecAPIVersion(env)
	if v == "" {
		return protocol.ExecInfo{}, cli.ErrMiss
	}
	return protocol.ExecInfo{APIVersion: v}, nil
}
