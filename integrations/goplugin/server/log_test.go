package server

import (
	"strings"

	"github.com/hashicorp/go-hclog"
)

// recordLogger is an hclog.Logger recording "LEVEL message" lines.
func recordLogger(out *[]string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Output: lineRecorder{out}, Level: hclog.Trace, DisableTime: true})
}

type lineRecorder struct{ out *[]string }

func (r lineRecorder) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		l = strings.TrimPrefix(l, "[")
		level, msg, _ := strings.Cut(l, "]")
		*r.out = append(*r.out, level+" "+strings.TrimSpace(msg))
	}
	return len(p), nil
}
