package gpu

import (
	"errors"
	"strings"
	"testing"
)

func TestChooseModes(t *testing.T) {
	t.Parallel()
	intel := Info{
		DRI:        []RenderNode{{Path: "/dev/dri/renderD128", Vendor: "intel", VendorID: "0x8086", Driver: "i915", Accessible: true}},
		EGL:        true,
		EGLVendors: []string{"/usr/share/glvnd/egl_vendor.d/50_mesa.json"},
	}
	for _, tc := range []struct {
		mode    string
		info    Info
		want    Backend
		wantErr string
	}{
		{mode: "auto", info: intel, want: Mesa},
		{mode: "AUTO", info: intel, want: Mesa},
		{mode: " on ", info: intel, want: Mesa},
		{mode: "Off", info: intel, want: CPU},
		{mode: "off", info: Info{}, want: CPU},
		{mode: "", info: intel, wantErr: `unknown GPU acceleration mode "": want auto, on or off`},
		{mode: "true", info: intel, wantErr: `unknown GPU acceleration mode "true": want auto, on or off`},
		{mode: "nvidia", info: intel, wantErr: `want auto, on or off`},
		{mode: "on", info: Info{}, wantErr: "no usable GPU: no GPU found"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			b, _, err := Choose(tc.mode, tc.info)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Choose(%q) error %v, want %q", tc.mode, err, tc.wantErr)
				}
				return
			}
			if err != nil || b != tc.want {
				t.Fatalf("Choose(%q) = %q, %v; want %q", tc.mode, b, err, tc.want)
			}
		})
	}
}

// A second accessible node is used when the first cannot be opened.
func TestChooseSecondNode(t *testing.T) {
	t.Parallel()
	info := Info{
		DRI: []RenderNode{
			{Path: "/dev/dri/renderD128", Vendor: "intel", AccessError: "permission denied"},
			{Path: "/dev/dri/renderD129", Vendor: "amd", Driver: "amdgpu", Accessible: true},
		},
		EGL:        true,
		EGLVendors: []string{"/usr/share/glvnd/egl_vendor.d/50_mesa.json"},
	}
	b, w, err := Choose(ModeOn, info)
	if b != Mesa || w != "" || err != nil {
		t.Errorf("Choose(on) = %q, %q, %v; want mesa", b, w, err)
	}
	info.DRI[1].Accessible = false
	_, _, err = Choose(ModeOn, info)
	if !errors.Is(err, ErrNoUsableGPU) || !strings.Contains(err.Error(), "renderD128") {
		t.Errorf("Choose(on) with no node openable: %v", err)
	}
}
