package dbtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"
)

// Server is a throw-away PostgreSQL server a test starts and stops itself, so it can take the
// database away without touching the machine's shared server.
type Server struct {
	DSN  string
	dir  string
	port int
	bin  string
	t    testing.TB
}

// StartPostgres initialises and starts a private PostgreSQL cluster on a free loopback port. It
// skips the test where PostgreSQL's binaries or the postgres account are missing.
func StartPostgres(t testing.TB) *Server {
	t.Helper()
	if os.Getenv(EnvPostgres) == "" {
		t.Skipf("set %s to run the PostgreSQL tests", EnvPostgres)
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		t.Skip("PostgreSQL's initdb is not installed")
	}
	if _, err := user.Lookup("postgres"); err != nil {
		t.Skip("no postgres account to run a private server as")
	}
	dir, err := os.MkdirTemp("", "lcw-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	s := &Server{dir: filepath.Join(dir, "data"), bin: filepath.Dir(matches[0]), t: t, port: freePort(t)}
	// initdb and postgres refuse to run as root: run them as the postgres account.
	if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v: %s", err, out)
	}
	s.run("initdb", "-D", s.dir, "-A", "trust", "-U", "postgres", "--no-sync")
	s.Start()
	t.Cleanup(func() { _ = s.pgctl("stop", "-m", "immediate") })
	s.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", s.port)
	return s
}

// Start starts the server and waits until it accepts connections.
func (s *Server) Start() {
	s.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", s.port, filepath.Dir(s.dir))
	if err := s.pgctl("start", "-w", "-l", filepath.Join(filepath.Dir(s.dir), "log"), "-o", opts); err != nil {
		s.t.Fatalf("start PostgreSQL: %v", err)
	}
}

// Stop stops the server at once, dropping its connections.
func (s *Server) Stop() {
	s.t.Helper()
	if err := s.pgctl("stop", "-w", "-m", "immediate"); err != nil {
		s.t.Fatalf("stop PostgreSQL: %v", err)
	}
}

func (s *Server) pgctl(args ...string) error {
	return s.exec("pg_ctl", append([]string{"-D", s.dir}, args...)...)
}

func (s *Server) run(name string, args ...string) {
	s.t.Helper()
	if err := s.exec(name, args...); err != nil {
		s.t.Fatalf("%s: %v", name, err)
	}
}

func (s *Server) exec(name string, args ...string) error {
	cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(s.bin, name)}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
