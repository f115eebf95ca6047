package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Request is the JSON protocol v1 request read from stdin by `get`; each
// field is the key in its tag. Every field is optional; a JSON null counts
// as an absent field.
type Request struct {
	Profile         string `json:"profile,omitempty"`
	MinValidSeconds *int64 `json:"min_valid_seconds,omitempty"`
	ForceRefresh    bool   `json:"force_refresh,omitempty"`
	Password        string `json:"password,omitempty"`
	MFACode         string `json:"mfa_code,omitempty"`
	Assertion       string `json:"assertion,omitempty"`
}

// DecodeRequest reads one JSON protocol v1 request object from r.
//
// Empty input, or input of only whitespace, gives the zero Request and no
// error. Anything else must be exactly one JSON object whose keys are the
// field names of Request, spelled exactly (no case folding), each at most
// once; optional whitespace may follow it. Unknown, duplicate or mistyped
// fields, a negative or non-integer min_valid_seconds, trailing data, input
// that is not an object and input larger than MaxInput give a *RequestError
// whose message names the offending field at most, never a value. An error
// reading r is returned wrapped, not as a *RequestError.
func DecodeRequest(r io.Reader) (Request, error) {
	var req Request
	data, err := io.ReadAll(io.LimitReader(r, MaxInput+1))
	if err != nil {
		return req, fmt.Errorf("reading request: %w", err)
	}
	if len(data) > MaxInput {
		return req, reqErrf("request is larger than %d bytes", MaxInput)
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return req, nil
	}
	if trimmed[0] != '{' {
		return req, reqErrf("request must be a JSON object")
	}

	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // the opening '{'
		return Request{}, jsonErr(err)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Request{}, jsonErr(err)
		}
		key, ok := tok.(string)
		if !ok { // cannot happen for a syntactically valid object; be safe
			return Request{}, reqErrf("malformed JSON object")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return Request{}, jsonErr(err)
		}
		if seen[key] {
			return Request{}, reqErrf("duplicate field %q", clip(key))
		}
		seen[key] = true
		if err := req.set(key, raw); err != nil {
			return Request{}, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return Request{}, jsonErr(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Request{}, reqErrf("unexpected data after the JSON object")
	}
	return req, nil
}

func (req *Request) set(key string, raw json.RawMessage) error {
	if string(raw) == "null" {
		switch key {
		case "profile", "min_valid_seconds", "force_refresh", "password", "mfa_code", "assertion":
			return nil
		}
	}
	switch key {
	case "profile":
		return decodeString(key, raw, &req.Profile)
	case "password":
		return decodeString(key, raw, &req.Password)
	case "mfa_code":
		return decodeString(key, raw, &req.MFACode)
	case "assertion":
		return decodeString(key, raw, &req.Assertion)
	case "force_refresh":
		switch string(raw) {
		case "true":
			req.ForceRefresh = true
		case "false":
			req.ForceRefresh = false
		default:
			return reqErrf("field %q must be true or false", key)
		}
		return nil
	case "min_valid_seconds":
		// raw is a syntactically valid JSON value; accept only a plain
		// integer (no fraction, no exponent) that fits an int64.
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || n < 0 {
			return reqErrf("field %q must be a non-negative integer number of seconds", key)
		}
		req.MinValidSeconds = &n
		return nil
	default:
		return reqErrf("unknown field %q (known: profile, min_valid_seconds, force_refresh, password, mfa_code, assertion)", clip(key))
	}
}

func decodeString(key string, raw json.RawMessage, dst *string) error {
	if len(raw) == 0 || raw[0] != '"' {
		return reqErrf("field %q must be a string", key)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return reqErrf("field %q must be a string", key)
	}
	return nil
}

// jsonErr turns a decoder error into a *RequestError without quoting the
// input: encoding/json's syntax errors include input characters.
func jsonErr(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return reqErrf("malformed JSON near byte %d", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return reqErrf("unexpected end of JSON input")
	default:
		return reqErrf("malformed JSON")
	}
}
