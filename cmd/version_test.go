package cmd

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/empplay/empplay/internal/testenv"
)

func runCLI(t *testing.T, env Env, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	env.Stdout, env.Stderr = &out, &out
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	cli := newRoot(&env)
	cli.SetArgs(args)
	err := cli.ExecuteContext(testenv.Context(t, 10*time.Second))
	return out.String(), err
}

func TestVersion(t *testing.T) {
	out, err := runCLI(t, Env{Version: "v1.2.3", Commit: "0123abc", Date: "2026-12-04T15:00:00Z"}, "version")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"empplay v1.2.3\n", "commit  0123abc\n", "built   2026-12-04T15:00:00Z\n", "go      go1."} {
		if !strings.Contains(out, want) {
			t.Errorf("version printed %q; want it to contain %q", out, want)
		}
	}
	out, err = runCLI(t, Env{Version: "v1.2.3", Commit: "0123abc", Date: "2026-12-04T15:00:00Z"}, "--version")
	if err != nil || out != "empplay version v1.2.3 (commit 0123abc, built 2026-12-04T15:00:00Z)\n" {
		t.Errorf("--version printed %q, %v", out, err)
	}
	// Without linker values every field still says something.
	out, _ = runCLI(t, Env{}, "version")
	if !regexp.MustCompile(`^empplay \S+\ncommit  \S+.*\nbuilt   \S+\n`).MatchString(out) {
		t.Errorf("version without build values printed %q", out)
	}
}

// The build scripts set, by name, variables of package main: a renamed
// variable would silently print "unknown".
func TestBuildScriptsSetMainVars(t *testing.T) {
	root := testenv.RepoRoot(t)
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(root, "cmd", "empplay", "main.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]bool{}
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.VAR {
			for _, s := range g.Specs {
				for _, n := range s.(*ast.ValueSpec).Names {
					vars[n.Name] = true
				}
			}
		}
	}
	x := regexp.MustCompile(`-X main\.([A-Za-z_]+)=`)
	for _, script := range []string{"scripts/setup.sh", "Dockerfile"} {
		b, err := os.ReadFile(filepath.Join(root, script))
		if err != nil {
			t.Fatal(err)
		}
		set := map[string]bool{}
		for _, m := range x.FindAllStringSubmatch(string(b), -1) {
			set[m[1]] = true
			if !vars[m[1]] {
				t.Errorf("%s sets main.%s, which cmd/empplay/main.go does not declare", script, m[1])
			}
		}
		for _, want := range []string{"version", "commit", "date"} {
			if !set[want] {
				t.Errorf("%s does not set main.%s", script, want)
			}
		}
	}
}

func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{
		"bash": "__start_empplay",
		"zsh":  "#compdef empplay",
		"fish": "complete -c empplay",
	} {
		out, err := runCLI(t, Env{}, "completion", shell)
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("completion %s: %v; want a script with %q, got %d bytes", shell, err, want, len(out))
		}
	}
}
