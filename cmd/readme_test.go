package cmd

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/empplay/empplay/internal/testenv"
)

// configRow is one row of the README's configuration table.
type configRow struct {
	flags []string // the flag names the row lists, without "--"
	def   string   // the default column
}

// readmeConfig parses the README's configuration table: env -> row.
func readmeConfig(t *testing.T) map[string]configRow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "\n| env | flag | default | meaning |\n|---|---|---|---|\n")
	if !ok {
		t.Fatal("README.md has no configuration table (| env | flag | default | meaning |)")
	}
	flagName := regexp.MustCompile("`--([a-z0-9-]+)`")
	rows := map[string]configRow{}
	for line := range strings.SplitSeq(table, "\n") {
		if !strings.HasPrefix(line, "| `") {
			break
		}
		cols := strings.Split(strings.Trim(strings.ReplaceAll(line, `\|`, "\x00"), "|"), "|")
		if len(cols) != 4 {
			t.Fatalf("configuration row %q: want 4 columns", line)
		}
		for i := range cols {
			cols[i] = strings.TrimSpace(cols[i])
		}
		env := strings.Trim(cols[0], "`")
		if _, dup := rows[env]; dup {
			t.Errorf("the configuration table lists %s twice", env)
		}
		r := configRow{def: cols[2]}
		for _, m := range flagName.FindAllStringSubmatch(cols[1], -1) {
			r.flags = append(r.flags, m[1])
		}
		rows[env] = r
	}
	if len(rows) < 20 {
		t.Fatalf("found %d rows in the README's configuration table; has its format changed?", len(rows))
	}
	return rows
}

// TestReadmeConfiguration holds the README's configuration table to the
// binary: every flag of supervise, worker and render (and the global ones)
// that an environment variable sets has its row, naming that flag, with
// the flag's default where both the row and the flag give one (an empty
// flag default is worked out at run time, which the row describes); and
// every row is a
// variable some flag reads.
func TestReadmeConfiguration(t *testing.T) {
	rows := readmeConfig(t)
	root := newRoot(&Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }})
	read := map[string]bool{}
	check := func(where string, f *pflag.Flag) {
		for _, env := range f.Annotations[envAnnotation] {
			read[env] = true
			r, ok := rows[env]
			if !ok {
				t.Errorf("%s --%s reads %s, which the README's configuration table does not list", where, f.Name, env)
				continue
			}
			if !slices.Contains(r.flags, f.Name) {
				t.Errorf("the README's row of %s names %v, not %s's flag --%s", env, r.flags, where, f.Name)
			}
			if lit, ok := literal(r.def); ok && !sameDefault(lit, f.DefValue) {
				t.Errorf("the README gives %s the default %q; %s --%s defaults to %q", env, lit, where, f.Name, f.DefValue)
			}
		}
	}
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) { check("empplay", f) })
	for _, name := range []string{"supervise", "worker", "render"} {
		c, _, err := root.Find([]string{name})
		if err != nil || c == root {
			t.Fatalf("no %s command: %v", name, err)
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) { check(name, f) })
	}
	// Variables the other commands read count as read too (submit, queue).
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			for _, env := range f.Annotations[envAnnotation] {
				read[env] = true
			}
		})
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	for env := range rows {
		if !read[env] {
			t.Errorf("the README's configuration table lists %s, which no flag of empplay reads", env)
		}
	}
}

// literal is the default column's value when it is exactly one code span.
func literal(col string) (string, bool) {
	col = strings.TrimSpace(col)
	if len(col) < 2 || col[0] != '`' || col[len(col)-1] != '`' || strings.Count(col, "`") != 2 {
		return "", false
	}
	return col[1 : len(col)-1], true
}

// sameDefault reports whether the README's default doc and a flag's
// default value def agree: equal, equal durations ("2m", "2m0s"), or a flag
// without a static default.
func sameDefault(doc, def string) bool {
	if doc == def || def == "" {
		return true
	}
	a, errA := time.ParseDuration(doc)
	b, errB := time.ParseDuration(def)
	return errA == nil && errB == nil && a == b
}
