package api

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/empplay/empplay"
)

// TestStatusOf lists every error code with its status, by the groups of
// errors.go and the README's table; a code declared there and missing
// here fails, so a new code gets a status on purpose.
func TestStatusOf(t *testing.T) {
	want := map[empplay.Code]int{
		// Bad input.
		empplay.CodeInvalidJSON:    http.StatusBadRequest,
		empplay.CodeUnknownType:    http.StatusBadRequest,
		empplay.CodeMissingField:   http.StatusBadRequest,
		empplay.CodeInvalidField:   http.StatusBadRequest,
		empplay.CodeSizeOutOfRange: http.StatusBadRequest,
		empplay.CodeCodeTooLarge:   http.StatusBadRequest,
		empplay.CodeInvalidBucket:  http.StatusBadRequest,
		empplay.CodeInvalidPath:    http.StatusBadRequest,
		empplay.CodeUnsupported:    http.StatusBadRequest,
		// The sketch failed.
		empplay.CodeSketchError:      http.StatusUnprocessableEntity,
		empplay.CodeNoCanvas:         http.StatusUnprocessableEntity,
		empplay.CodeBlankCanvas:      http.StatusUnprocessableEntity,
		empplay.CodeMissingAddon:     http.StatusUnprocessableEntity,
		empplay.CodeNoWebGL:          http.StatusUnprocessableEntity,
		empplay.CodeNetworkBlocked:   http.StatusUnprocessableEntity,
		empplay.CodeAssetUnavailable: http.StatusUnprocessableEntity,
		empplay.CodeMemoryLimit:      http.StatusUnprocessableEntity,
		empplay.CodeRenderTimeout:    http.StatusGatewayTimeout,
		// Infrastructure, and the queue giving up.
		empplay.CodeBrowserError:   http.StatusBadGateway,
		empplay.CodeStorageError:   http.StatusBadGateway,
		empplay.CodeCDNError:       http.StatusBadGateway,
		empplay.CodeEncoderError:   http.StatusBadGateway,
		empplay.CodeInternal:       http.StatusBadGateway,
		empplay.CodeGPUUnavailable: http.StatusBadGateway,
		empplay.CodeMaxAttempts:    http.StatusBadGateway,
	}
	declared := declaredCodes(t)
	for _, c := range declared {
		if _, ok := want[c]; !ok {
			t.Errorf("code %q is declared in package empplay and has no status in this table: add it (and to StatusOf)", c)
		}
	}
	for c, status := range want {
		if !slices.Contains(declared, c) {
			t.Errorf("code %q is in this table and not declared in package empplay", c)
		}
		if got := StatusOf(c); got != status {
			t.Errorf("StatusOf(%s) = %d; want %d", c, got, status)
		}
	}
	if got := StatusOf("from_a_newer_worker"); got != http.StatusBadGateway {
		t.Errorf("StatusOf(an unknown code) = %d; want 502", got)
	}
}

// declaredCodes returns the value of every constant of type Code declared
// in package empplay (../*.go, tests excluded).
func declaredCodes(t *testing.T) []empplay.Code {
	t.Helper()
	files, err := filepath.Glob("../*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("package empplay's files: %v", err)
	}
	var codes []empplay.Code
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				v := spec.(*ast.ValueSpec)
				if id, ok := v.Type.(*ast.Ident); !ok || id.Name != "Code" {
					continue
				}
				for _, val := range v.Values {
					if lit, ok := val.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, _ := strconv.Unquote(lit.Value)
						codes = append(codes, empplay.Code(s))
					}
				}
			}
		}
	}
	if !slices.Contains(codes, empplay.CodeSketchError) {
		t.Fatalf("found %v in package empplay; want every Code constant", codes)
	}
	return codes
}

// TestStatusOfError: a retryable asset_unavailable (its origin failed) is
// the infrastructure's 502, one the origin refused for good the sketch's
// 422; other codes answer StatusOf's status whether retryable or not.
func TestStatusOfError(t *testing.T) {
	for _, tc := range []struct {
		err  empplay.Error
		want int
	}{
		{empplay.Error{Code: empplay.CodeAssetUnavailable, Retryable: true}, http.StatusBadGateway},
		{empplay.Error{Code: empplay.CodeAssetUnavailable}, http.StatusUnprocessableEntity},
		{empplay.Error{Code: empplay.CodeSketchError}, http.StatusUnprocessableEntity},
		{empplay.Error{Code: empplay.CodeStorageError, Retryable: true}, http.StatusBadGateway},
		{empplay.Error{Code: empplay.CodeRenderTimeout, Retryable: true}, http.StatusGatewayTimeout},
	} {
		if got := statusOfError(&tc.err); got != tc.want {
			t.Errorf("statusOfError(%s, retryable %v) = %d; want %d", tc.err.Code, tc.err.Retryable, got, tc.want)
		}
	}
	res := &empplay.Result{ErrorCode: empplay.CodeAssetUnavailable, Error: "asset 503", Retryable: true}
	var e *empplay.Error
	if !errors.As(resultError(res), &e) || statusOfError(e) != http.StatusBadGateway {
		t.Errorf("a failed result's retryable asset_unavailable is not answered 502")
	}
}
