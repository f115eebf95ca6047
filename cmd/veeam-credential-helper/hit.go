package main

import (
	"context"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cmd/internal/cli"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/helper/hit"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

// hitSource is the front's cli.Source: a clean cache hit, else cli.ErrMiss
// (or the error on the way), and the engine answers instead.
type hitSource struct {
	c   *cli.Call
	cfg *config.Config
}

func newHitSource(c *cli.Call) cli.Source { return &hitSource{c: c} }

// config loads the configuration once per call. It is the front's one
// seam to the configuration.
func (s *hitSource) config() (*config.Config, error) {
	if s.cfg == nil {
		cfg, err := config.Load(s.c.ConfigPath())
		if err != nil {
			return nil, err
		}
		s.cfg = cfg
	}
	return s.cfg, nil
}

func (s *hitSource) Credential(_ context.Context, r cli.Request) (protocol.Credential, error) {
	if r.ForceRefresh {
		return protocol.Credential{}, cli.ErrMiss
	}
	cfg, err := s.config()
	if err != nil {
		return protocol.Credential{}, err
	}
	p, err := cfg.Profile(r.Profile)
	if err != nil {
		return protocol.Credential{}, err
	}
	e, ok := hit.Lookup(cfg, p, r.MinValid, time.Now())
	if !ok {
		return protocol.Credential{}, cli.ErrMiss
	}
	return protocol.Credential{
		Profile:     p.Name,
		Product:     p.Product,
		URL:         p.URL,
		Username:    p.Identity(),
		TokenType:   "Bearer",
		AccessToken: e.AccessToken,
		ExpiresAt:   e.ExpiresAt,
		Source:      "cache",
	}, nil
}

func (s *hitSource) GitProfile(req protocol.GitRequest, flagProfile, envProfile string) (string, error) {
	cfg, err := s.config()
	if err != nil {
		return "", err
	}
	p, err := cfg.GitProfileFor(req.Protocol, req.Host, req.Username, flagProfile, envProfile)
	if err != nil || p == nil {
		return "", err
	}
	return p.Name, nil
}

func (s *hitSource) Invalidate(context.Context, string, string) error { return cli.ErrMiss }
