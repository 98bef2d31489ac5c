package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/schema"
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
		empplay.CodeOutputTooLarge:   http.StatusUnprocessableEntity,
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
			t.Errorf("code %q is a result code (the Result schema's errorCode) and has no status in this table: add it (and to StatusOf)", c)
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

// declaredCodes returns every error code a result may carry: the Result
// schema's errorCode enum, which TestResultSchema (package empplay) holds
// equal to the Code constants the code declares.
func declaredCodes(t *testing.T) []empplay.Code {
	t.Helper()
	var doc struct {
		Properties struct {
			ErrorCode struct {
				Enum []empplay.Code `json:"enum"`
			} `json:"errorCode"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(schema.Result(), &doc); err != nil {
		t.Fatal(err)
	}
	codes := doc.Properties.ErrorCode.Enum
	if !slices.Contains(codes, empplay.CodeSketchError) {
		t.Fatalf("found %v in the Result schema's errorCode; want every code", codes)
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
