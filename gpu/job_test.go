package gpu

import (
	"testing"

	"github.com/empplay/empplay"
)

func TestCodeUsesWebGL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code string
		want bool
	}{
		{"function setup(){ createCanvas(400, 400, WEBGL); }", true},
		{"function setup(){createCanvas(windowWidth,windowHeight,WEBGL)}", true},
		{"createCanvas(min(w, h), min(w, h), WEBGL);", true},
		{"createCanvas(\n  800,\n  800,\n  WEBGL\n);", true},
		{"new p5(p => { p.setup = () => p.createCanvas(400, 400, p.WEBGL); });", true},
		{"let g = createGraphics(200, 200, WEBGL);", true},
		{"const gl = canvas.getContext('webgl2');", true},
		{`const gl = c.getContext("webgl", {preserveDrawingBuffer: true});`, true},
		{"c.getContext(`experimental-webgl`)", true},
		{"const r = new THREE.WebGLRenderer({canvas});", true},
		{"function setup(){ createCanvas(400, 400); }", false},
		{"createCanvas(400, 400); let mode = WEBGL;", false}, // the constant alone is no canvas
		{"c.getContext('2d')", false},
		{"", false},
		{"// setWebGLFlag(false)", false},
	} {
		if got := CodeUsesWebGL(tc.code); got != tc.want {
			t.Errorf("CodeUsesWebGL(%q) = %v; want %v", tc.code, got, tc.want)
		}
	}
}

func TestClassifyJob(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		raw  string
		want JobNeeds
	}{
		{"2D p5", `{"type":"p5","code":"createCanvas(9,9)"}`, JobNeeds{Memory: JobMemoryLow}},
		{"usesWebGL", `{"type":"p5","code":"x","usesWebGL":true}`,
			JobNeeds{WebGL: true, Wants: true, Memory: JobMemoryLow, Reason: "usesWebGL"}},
		{"WEBGL in code", `{"type":"p5","code":"createCanvas(9,9,WEBGL)"}`,
			JobNeeds{WebGL: true, Wants: true, Memory: JobMemoryLow, Reason: "code creates a WebGL context"}},
		{"webgl in a js job", `{"type":"js","javascript":"document.querySelector('canvas').getContext('webgl')"}`,
			JobNeeds{WebGL: true, Wants: true, Memory: JobMemoryLow, Reason: "code creates a WebGL context"}},
		{"low complexity alone", `{"type":"p5","code":"x","gpuComplexity":"low"}`, JobNeeds{Memory: JobMemoryLow}},
		{"medium complexity", `{"type":"p5","code":"x","gpuComplexity":"medium"}`,
			JobNeeds{Wants: true, Memory: JobMemoryMedium, Reason: "gpuComplexity medium"}},
		{"high with an estimate", `{"type":"p5","code":"x","gpuComplexity":"high","estimatedGPUMemory":100}`,
			JobNeeds{Wants: true, Memory: 100 << 20, Reason: "gpuComplexity high"}},
		{"requireGPU", `{"type":"p5","code":"x","requireGPU":true,"usesWebGL":true}`,
			JobNeeds{WebGL: true, Wants: true, Require: true, Memory: JobMemoryLow, Reason: "usesWebGL, requireGPU"}},
		{"not JSON", `not json`, JobNeeds{}},
		{"wrong types", `{"usesWebGL":"yes"}`, JobNeeds{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Parse's validation errors do not matter here: the job is
			// decoded, and the worker reports it as invalid.
			job, _ := empplay.Parse([]byte(tc.raw))
			if got := ClassifyJob(job); got != tc.want {
				t.Errorf("ClassifyJob = %+v; want %+v", got, tc.want)
			}
		})
	}
}

func TestJobMemory(t *testing.T) {
	t.Parallel()
	f := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		est        *float64
		complexity string
		want       uint64
	}{
		{nil, "", JobMemoryLow},
		{nil, "low", JobMemoryLow},
		{nil, "Medium", JobMemoryMedium},
		{nil, "high", JobMemoryHigh},
		{nil, "extreme", JobMemoryLow},
		{f(1.5), "high", 3 << 19},
		{f(0), "high", JobMemoryHigh},
		{f(-4), "medium", JobMemoryMedium},
	} {
		if got := JobMemory(tc.est, tc.complexity); got != tc.want {
			t.Errorf("JobMemory(%v, %q) = %d; want %d", tc.est, tc.complexity, got, tc.want)
		}
	}
}

func TestGroupMemory(t *testing.T) {
	t.Parallel()
	procs := []ProcessMemory{
		{PID: 10, Bytes: 100}, // browser 1's GPU process
		{PID: 11, Device: 1, Bytes: 50},
		{PID: 20, Bytes: 300}, // another browser
		{PID: 30, Bytes: 7},   // gone
	}
	groups := map[int]int{10: 9, 11: 9, 20: 19}
	pgrp := func(pid int) (int, bool) { g, ok := groups[pid]; return g, ok }
	for _, tc := range []struct {
		pgid  int
		want  uint64
		found bool
	}{{9, 150, true}, {19, 300, true}, {29, 0, false}, {0, 0, false}} {
		got, found := GroupMemory(procs, tc.pgid, pgrp)
		if got != tc.want || found != tc.found {
			t.Errorf("GroupMemory(pgid %d) = %d, %v; want %d, %v", tc.pgid, got, found, tc.want, tc.found)
		}
	}
}
