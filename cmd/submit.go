package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/queue"
)

type submitFlags struct {
	redis   redisFlags
	wait    bool
	timeout time.Duration
}

func newSubmitCmd(env *Env, g *globalFlags) *cobra.Command {
	f := &submitFlags{}
	c := &cobra.Command{
		Use:   "submit JOB.json|-",
		Short: "Push a job onto the queue, optionally wait for its result",
		Long: `submit pushes the job file (surrounding whitespace trimmed) with LPUSH, exactly
as the platform does, and prints the job id: the "id" field, or the SHA-256 of
the bytes pushed. With --wait it prints the result JSON and exits 1 if the job
failed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			var raw []byte
			var err error
			if args[0] == "-" {
				raw, err = io.ReadAll(env.Stdin)
			} else {
				raw, err = os.ReadFile(args[0])
			}
			if err != nil {
				return empplay.ConfigError(fmt.Errorf("read job: %w", err))
			}
			raw = bytes.TrimSpace(raw)
			if _, err := empplay.Parse(raw); err != nil {
				// The worker would answer with a failed result; say so now.
				fmt.Fprintf(env.Stderr, "warning: the worker will reject this job: %v (%s)\n", err, empplay.ErrorCode(err))
			}
			ctx := c.Context()
			rc, err := f.redis.client(ctx)
			if err != nil {
				return err
			}
			defer rc.Close()
			p := queue.NewClient(rc, f.redis.queue)
			id, err := p.Submit(ctx, raw)
			if err != nil {
				return err
			}
			if !f.wait {
				fmt.Fprintln(env.Stdout, id)
				return nil
			}
			fmt.Fprintln(env.Stderr, "submitted", id)
			wctx, cancel := context.WithTimeout(ctx, f.timeout)
			defer cancel()
			res, err := p.Wait(wctx, id)
			if errors.Is(err, queue.ErrNoResult) {
				return fmt.Errorf("no result for %s within %v (the job stays queued)", id, f.timeout)
			}
			if err != nil {
				return err
			}
			enc := json.NewEncoder(env.Stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(res); err != nil {
				return err
			}
			if !res.Success {
				return &empplay.ExitError{Code: empplay.ExitFailure, Err: errSilent}
			}
			return nil
		},
	}
	f.redis.register(c.Flags())
	c.Flags().BoolVar(&f.wait, "wait", false, "wait for the result and print it")
	c.Flags().DurationVar(&f.timeout, "timeout", 2*time.Minute, "with --wait: how long to wait")
	return c
}
