package cli

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// signalContext is cancelled by SIGINT or SIGTERM but installs the handler
// (a goroutine on a locked OS thread) only when something first waits on it
// or stdin is a terminal, which keeps about 4 % of the instructions off an
// engine cache hit (BENCHMARKS.md); without a handler a signal ends a hit at once.
type signalContext struct {
	context.Context // Background until install
	once            sync.Once
	ctx             context.Context
	cancel          context.CancelFunc
}

func (c *signalContext) install() {
	c.once.Do(func() {
		c.ctx, c.cancel = signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	})
}

func (c *signalContext) Done() <-chan struct{} {
	c.install()
	if c.ctx == nil { // after stop
		return c.Context.Done()
	}
	return c.ctx.Done()
}

func (c *signalContext) Err() error {
	c.install()
	if c.ctx == nil {
		return c.Context.Err()
	}
	return c.ctx.Err()
}

// stop removes the handler if there is one; afterwards none is installed.
func (c *signalContext) stop() {
	c.once.Do(func() {})
	if c.cancel != nil {
		c.cancel()
	}
}
