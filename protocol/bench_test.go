package protocol

import (
	"io"
	"strings"
	"testing"
	"time"
)

// The answer-encoding part of a cache hit (BENCHMARKS.md).

var benchCred = Credential{
	Profile: "m365", Product: "vb365", URL: "https://vb365.example.com:4443", Username: `corp\svc-backup`,
	TokenType: "Bearer", AccessToken: strings.Repeat("eyJhbGciOiJSUzI1NiJ9", 60), // ~1.2 kB, a JWT's size
	ExpiresAt: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC), Source: "cache",
}

func BenchmarkWrite(b *testing.B) {
	for _, f := range Formats() {
		b.Run(f, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Write(io.Discard, f, benchCred); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWriteExecCredential(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteExecCredential(io.Discard, ExecV1, benchCred.AccessToken, benchCred.ExpiresAt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseExecInfo(b *testing.B) {
	env := `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseExecInfo(env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeRequest(b *testing.B) {
	const req = `{"profile":"m365","min_valid_seconds":300}`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRequest(strings.NewReader(req)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteGit(b *testing.B) {
	a := GitAnswer{Username: "corp\\svc-backup", Password: benchCred.AccessToken, PasswordExpiry: benchCred.ExpiresAt}
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteGit(io.Discard, a); err != nil {
			b.Fatal(err)
		}
	}
}
