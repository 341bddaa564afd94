// Package connlimit bounds the connections an http.Server holds open, so
// that no client can exhaust its file descriptors: a Listener accepts at
// most Max connections at a time and, when it is full, makes room by
// closing the connection that has been quiet longest (idle between
// keep-alive requests, or accepted and silent); a connection with a
// request in progress is never closed by it, and the server's read and
// write timeouts bound how long such a connection can last. When every
// connection is busy, Accept holds the new connection until one closes
// (later ones wait in the kernel's backlog).
//
// A connection closed to make room may have had a request arrive at that
// very moment; like any keep-alive close, clients retry such requests.
package connlimit

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Listener wraps a net.Listener. Install its ConnState as the server's
// http.Server.ConnState so that it knows which connections are quiet.
type Listener struct {
	net.Listener
	max    int
	mu     sync.Mutex
	freed  *sync.Cond
	open   int
	quiet  map[*conn]time.Time // connections with no request in progress, and since when
	closed bool
}

// New returns a Listener over ln holding at most n connections (at
// least 1).
func New(ln net.Listener, n int) *Listener {
	l := &Listener{Listener: ln, max: max(n, 1), quiet: map[*conn]time.Time{}}
	l.freed = sync.NewCond(&l.mu)
	return l
}

// Max is the bound on open connections.
func (l *Listener) Max() int { return l.max }

// Accept accepts a connection and, if the limit is reached, closes the
// longest-quiet connection to make room for it, or waits for a busy one
// to close. So at most Max connections are served and one more waits.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	for l.open >= l.max && !l.closed {
		if victim := l.oldestQuiet(); victim != nil {
			l.mu.Unlock()
			victim.Close()
			l.mu.Lock()
			continue
		}
		l.freed.Wait()
	}
	if l.closed {
		l.mu.Unlock()
		c.Close()
		return nil, net.ErrClosed
	}
	l.open++
	wc := &conn{Conn: c, l: l}
	l.quiet[wc] = time.Now()
	l.mu.Unlock()
	return wc, nil
}

// Close closes the listener and wakes a waiting Accept.
func (l *Listener) Close() error {
	l.mu.Lock()
	l.closed = true
	l.freed.Broadcast()
	l.mu.Unlock()
	return l.Listener.Close()
}

// ConnState records whether a connection has a request in progress.
func (l *Listener) ConnState(c net.Conn, state http.ConnState) {
	wc, ok := c.(*conn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if wc.released {
		return
	}
	switch state {
	case http.StateNew, http.StateIdle:
		l.quiet[wc] = time.Now()
	default:
		delete(l.quiet, wc)
	}
}

// oldestQuiet returns the connection quiet longest, or nil. l.mu is held.
func (l *Listener) oldestQuiet() *conn {
	var oldest *conn
	var since time.Time
	for c, t := range l.quiet {
		if oldest == nil || t.Before(since) {
			oldest, since = c, t
		}
	}
	return oldest
}

// conn gives back its slot when closed, once.
type conn struct {
	net.Conn
	l        *Listener
	once     sync.Once
	released bool // under l.mu
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		c.released = true
		delete(c.l.quiet, c)
		c.l.open--
		c.l.freed.Signal()
		c.l.mu.Unlock()
	})
	return err
}

// fromFileLimit is DefaultMax for a limit of n open files.
func fromFileLimit(n uint64) int {
	switch {
	case n < 128:
		return int(max(n/2, 1))
	case n-64 > 4096:
		return 4096
	default:
		return int(n - 64)
	}
}
