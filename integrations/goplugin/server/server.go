// Package server is the serving side of the go-plugin integration backed
// by the engine (package helper): the binary's `plugin` command runs it.
// Host programs do not import it; they use package goplugin.
package server

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
	"github.com/veeam-tools/veeam-credential-helper/helper/config"
	"github.com/veeam-tools/veeam-credential-helper/integrations/goplugin"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

// Server implements goplugin.CredentialHelper with one helper.Helper for
// the whole process: every call shares its HTTP clients, its open store
// and the cross-process lock.
//
// On top of the helper it keeps, per profile, the last answer in memory and
// a one-slot queue:
//   - a call whose answer in memory is still fresh (as helper.Get judges:
//     more left than max(refresh_before, MinValid)) and was read from the
//     store less than MemoryTTL ago is answered without decrypting the
//     store again (tens of microseconds instead of milliseconds);
//   - other calls for one profile run helper.Get one at a time, so
//     concurrent calls in the host cause one grant and the waiters take its
//     answer from memory. The helper's lock file still serialises this
//     process with every other one.
type Server struct {
	h   *helper.Helper
	err error // configuration error answered to every call
	log hclog.Logger

	// DefaultProfile is used by requests that name no profile (the `-p`
	// flag or VEEAM_PROFILE of the plugin process); "" means the
	// configuration's default_profile, else its only profile.
	DefaultProfile string

	// MemoryTTL bounds how long an answer is reused from memory before the
	// store is read again (a logout or renewal by another process is seen
	// within it). 0 disables the memory.
	MemoryTTL time.Duration

	mu       sync.Mutex
	profiles map[string]*profileState
}

// DefaultMemoryTTL is New's MemoryTTL.
const DefaultMemoryTTL = time.Second

type profileState struct {
	slot   chan struct{} // one helper.Get at a time for this profile
	mu     sync.Mutex
	last   *protocol.Credential // last answer; nil after Invalidate
	readAt time.Time            // when last was read from the store or the server
	before time.Duration        // the profile's refresh_before
}

var _ goplugin.CredentialHelper = (*Server)(nil)

// New serves h. Its warnings and debug lines go to log; Prompt is cleared
// (a plugin has no terminal: a missing secret is exit 5, never a hang).
func New(h *helper.Helper, log hclog.Logger) *Server {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	h.Prompt = nil
	h.Stderr = LogWriter(log)
	return &Server{h: h, log: log, MemoryTTL: DefaultMemoryTTL}
}

// Failing answers err to every call: the plugin still starts when the
// configuration is broken, so the host gets the helper's one-line message
// and exit code instead of "plugin exited before we could connect".
func Failing(err error, log hclog.Logger) *Server {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Server{err: err, log: log}
}

func (s *Server) fail(op string, err error) error {
	e := exitcode.AsError(err)
	// The host gets the error itself; the log only traces it.
	s.log.Debug(op+" failed", "error", e.Msg, "exit_code", e.Exit)
	return &exitcode.Error{Exit: e.Exit, Msg: e.Msg} // the cause stays here
}

func (s *Server) profile(name string) (*config.Profile, error) {
	if name == "" {
		name = s.DefaultProfile
	}
	return s.h.Config.Profile(name)
}

func (s *Server) now() time.Time {
	if s.h.Now != nil {
		return s.h.Now()
	}
	return time.Now()
}

func (s *Server) state(name string) *profileState {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.profiles[name]
	if ps == nil {
		if s.profiles == nil {
			s.profiles = map[string]*profileState{}
		}
		ps = &profileState{slot: make(chan struct{}, 1)}
		s.profiles[name] = ps
	}
	return ps
}

// remembered is the answer in memory if it may be reused for r.
func (s *Server) remembered(ps *profileState, r goplugin.Request) *protocol.Credential {
	if s.MemoryTTL <= 0 || r.ForceRefresh {
		return nil
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.last == nil {
		return nil
	}
	now := s.now()
	need := max(ps.before, r.MinValid)
	if now.Sub(ps.readAt) >= s.MemoryTTL || ps.last.ExpiresAt.Sub(now) <= need {
		return nil
	}
	c := *ps.last
	c.Source = helper.SourceCache
	return &c
}

// GetCredential runs helper.Get (see Server for the memory in front of it).
func (s *Server) GetCredential(ctx context.Context, r goplugin.Request) (*protocol.Credential, error) {
	if s.err != nil {
		return nil, s.fail("get credential", s.err)
	}
	p, err := s.profile(r.Profile)
	if err != nil {
		return nil, s.fail("get credential", err)
	}
	ps := s.state(p.Name)
	if c := s.remembered(ps, r); c != nil {
		if s.log.IsTrace() {
			s.log.Trace("credential from memory", "profile", c.Profile, "expires_at", c.ExpiresAt.UTC().Format(time.RFC3339))
		}
		return c, nil
	}
	select {
	case ps.slot <- struct{}{}:
	case <-ctx.Done():
		return nil, s.fail("get credential", &exitcode.Error{Exit: exitcode.Unreachable, Msg: "profile \"" + p.Name + "\": cancelled while waiting for another call's login", Err: ctx.Err()})
	}
	defer func() { <-ps.slot }()
	// Another call may have renewed the token while this one waited.
	if c := s.remembered(ps, r); c != nil {
		return c, nil
	}
	res, err := s.h.Get(ctx, helper.Request{Profile: p.Name, MinValid: r.MinValid, ForceRefresh: r.ForceRefresh})
	if err != nil {
		return nil, s.fail("get credential", err)
	}
	c := res.Credential()
	ps.mu.Lock()
	last := c
	ps.last, ps.readAt, ps.before = &last, s.now(), res.Profile.RefreshBefore.Duration
	ps.mu.Unlock()
	if s.log.IsDebug() {
		s.log.Debug("credential", "profile", res.Profile.Name, "source", res.Source,
			"expires_at", res.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return &c, nil
}

func (s *Server) forget(name string) {
	ps := s.state(name)
	ps.mu.Lock()
	ps.last = nil
	ps.mu.Unlock()
}

// Invalidate runs helper.Invalidate.
func (s *Server) Invalidate(ctx context.Context, profile string) error {
	if s.err != nil {
		return s.fail("invalidate", s.err)
	}
	p, err := s.profile(profile)
	if err != nil {
		return s.fail("invalidate", err)
	}
	s.forget(p.Name)
	if err := s.h.Invalidate(ctx, p.Name); err != nil {
		return s.fail("invalidate", err)
	}
	s.log.Debug("invalidated", "profile", profile)
	return nil
}

// ListProfiles lists the configuration's profiles.
func (s *Server) ListProfiles(context.Context) ([]goplugin.Profile, error) {
	if s.err != nil {
		return nil, s.fail("list profiles", s.err)
	}
	cfg := s.h.Config
	def := ""
	if p, err := s.profile(""); err == nil {
		def = p.Name
	}
	var out []goplugin.Profile
	for _, name := range cfg.ProfileNames() {
		p := cfg.Profiles[name]
		out = append(out, goplugin.Profile{Name: name, Product: p.Product, URL: p.URL, Username: p.Identity(), Default: name == def})
	}
	return out, nil
}

// LogWriter turns the helper's stderr lines ("veeam-credential-helper:
// warning: …", "… debug: …") into log entries of that level.
func LogWriter(log hclog.Logger) *lineLogger { return &lineLogger{log: log} }

type lineLogger struct {
	mu  sync.Mutex
	buf bytes.Buffer
	log hclog.Logger
}

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		b := w.buf.Bytes()
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		line := string(b[:i])
		w.buf.Next(i + 1)
		w.emit(line)
	}
	return len(p), nil
}

func (w *lineLogger) emit(line string) {
	l := strings.TrimPrefix(strings.TrimSpace(line), "veeam-credential-helper: ")
	switch {
	case l == "":
	case strings.HasPrefix(l, "warning: "):
		w.log.Warn(strings.TrimPrefix(l, "warning: "))
	case strings.HasPrefix(l, "debug: "):
		w.log.Debug(strings.TrimPrefix(l, "debug: "))
	default:
		w.log.Info(l)
	}
}
