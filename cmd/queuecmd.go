package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/queue"
)

func newQueueCmd(env *Env) *cobra.Command {
	var rf redisFlags
	var asJSON bool
	c := &cobra.Command{
		Use:   "queue",
		Short: "Inspect and repair the job queue (stats, dead letters, one job)",
	}
	rf.register(c.PersistentFlags())
	c.PersistentFlags().BoolVar(&asJSON, "json", false, "print JSON instead of text")

	admin := func(c *cobra.Command) (*queue.Admin, func(), error) {
		rc, err := rf.client(c.Context())
		if err != nil {
			return nil, nil, err
		}
		return queue.NewAdmin(rc, rf.queue), rc.Close, nil
	}
	printJSON := func(w io.Writer, v any) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}

	stats := &cobra.Command{
		Use:   "stats",
		Short: "Queue depth, retries, dead letters, oldest job age, in-flight jobs per worker",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			a, done, err := admin(c)
			if err != nil {
				return err
			}
			defer done()
			s, err := a.Stats(c.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(env.Stdout, s)
			}
			w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "queue\t%s\npending\t%d\noldest pending\t%v\nretrying\t%d\ndead\t%d\ngpu lane\t%d (%d GPU workers)\nworkers\t%d\n",
				s.Queue, s.Pending, time.Duration(s.OldestPendingAgeMs)*time.Millisecond, s.Retrying, s.Dead, s.GPULane, s.GPUWorkers, len(s.Workers))
			if len(s.Workers) > 0 {
				fmt.Fprintln(w, "\nWORKER\tIN FLIGHT\tHEARTBEAT")
				for _, wk := range s.Workers {
					hb := "unregistered"
					if wk.Registered {
						hb = fmt.Sprintf("expires in %v", time.Duration(wk.HeartbeatInMs)*time.Millisecond)
						if wk.HeartbeatInMs < 0 {
							hb = fmt.Sprintf("EXPIRED %v ago", -time.Duration(wk.HeartbeatInMs)*time.Millisecond)
						}
					}
					fmt.Fprintf(w, "%s\t%d\t%s\n", wk.ID, wk.InFlight, hb)
				}
			}
			return w.Flush()
		},
	}

	var requeueID string
	var requeueAll bool
	var limit int
	dead := &cobra.Command{
		Use:   "dead",
		Short: "List dead-lettered jobs, or queue them again with --requeue ID / --all",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if requeueID != "" && requeueAll {
				return empplay.ConfigError(errors.New("give --requeue ID or --all, not both"))
			}
			a, done, err := admin(c)
			if err != nil {
				return err
			}
			defer done()
			if requeueID != "" || requeueAll {
				n, err := a.RequeueDead(c.Context(), requeueID)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, map[string]int{"requeued": n})
				}
				fmt.Fprintf(env.Stdout, "requeued %d job(s)\n", n)
				return nil
			}
			jobs, err := a.Dead(c.Context(), limit)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(env.Stdout, jobs)
			}
			w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tATTEMPTS\tDIED\tERROR")
			for _, j := range jobs {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", j.ID, j.Attempts, time.UnixMilli(j.At).UTC().Format(time.RFC3339), j.Error)
			}
			return w.Flush()
		},
	}
	dead.Flags().StringVar(&requeueID, "requeue", "", "queue the dead job with this id again, with fresh attempts")
	dead.Flags().BoolVar(&requeueAll, "all", false, "queue every dead job again")
	dead.Flags().IntVar(&limit, "limit", 100, "how many dead jobs to list")

	inspect := &cobra.Command{
		Use:   "inspect ID",
		Short: "Where a job is (pending, in-flight, retry, dead, finished), its attempts and result",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			a, done, err := admin(c)
			if err != nil {
				return err
			}
			defer done()
			j, err := a.Inspect(c.Context(), args[0])
			if err != nil {
				return err
			}
			prog, err := a.Progress(c.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(env.Stdout, struct {
					*queue.Job
					Progress *queue.Progress `json:"progress,omitempty"`
				}{j, prog})
			}
			w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "id\t%s\nwhere\t%s\n", j.ID, j.Where)
			if prog != nil && prog.Total > 0 {
				fmt.Fprintf(w, "progress\t%d/%d frames (%d%%), updated %s by %s\n", prog.Done, prog.Total,
					prog.Done*100/prog.Total, time.UnixMilli(prog.UpdatedAt).UTC().Format(time.RFC3339), prog.Worker)
			}
			if j.Where == "pending" {
				fmt.Fprintf(w, "position\t%d (0 = next)\n", j.Position)
			}
			if j.Worker != "" {
				fmt.Fprintf(w, "worker\t%s\n", j.Worker)
			}
			if j.RetryAt > 0 {
				fmt.Fprintf(w, "retry at\t%s\n", time.UnixMilli(j.RetryAt).UTC().Format(time.RFC3339Nano))
			}
			for _, k := range []string{"state", "attempts", "lastError", "worker", "claimedAt", "finishedAt"} {
				if v, ok := j.Meta[k]; ok {
					fmt.Fprintf(w, "%s\t%s\n", k, v)
				}
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if j.Result != nil {
				fmt.Fprintln(env.Stdout, "result:")
				return printJSON(env.Stdout, j.Result)
			}
			return nil
		},
	}
	c.AddCommand(stats, dead, inspect)
	return c
}
