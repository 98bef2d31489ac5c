package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/empplay/empplay"
)

// envAnnotation names the environment variable that sets a flag.
const envAnnotation = "empplay_env"

// bindEnv records that env sets flag name of fs and mentions it in the
// flag's help.
func bindEnv(fs *pflag.FlagSet, name, env string) {
	f := fs.Lookup(name)
	if f == nil {
		panic("bindEnv: no flag " + name) // a programming error caught by any test run
	}
	f.Usage += " (env " + env + ")"
	_ = fs.SetAnnotation(name, envAnnotation, []string{env})
}

// applyEnv sets every flag of c that was not given on the command line
// from its environment variable, when that is set.
func applyEnv(c *cobra.Command, getenv func(string) string) error {
	var errs []string
	visit := func(f *pflag.Flag) {
		envs := f.Annotations[envAnnotation]
		if f.Changed || len(envs) == 0 {
			return
		}
		v := getenv(envs[0])
		if v == "" {
			return
		}
		if err := f.Value.Set(v); err != nil {
			errs = append(errs, fmt.Sprintf("%s=%q (flag --%s): %v", envs[0], v, f.Name, err))
		}
	}
	// c.Flags() holds the inherited persistent flags too once cobra parsed.
	c.Flags().VisitAll(visit)
	if len(errs) > 0 {
		return empplay.ConfigError(fmt.Errorf("invalid environment: %s", strings.Join(errs, "; ")))
	}
	return nil
}
