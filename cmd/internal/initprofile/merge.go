package initprofile

import (
	"errors"
	"strconv"
	"strings"
)

// merge returns text with the table for profile name (a "[profiles.NAME]"
// header and its keys) replaced by table, or table appended when there is
// none. Everything else, comments included, stays as it was.
func merge(text []byte, name, table string) ([]byte, error) {
	lines := strings.SplitAfter(string(text), "\n")
	start, end := -1, len(lines)
	for i, l := range lines {
		h, ok := header(l)
		if !ok {
			continue
		}
		if start >= 0 {
			end = i
			break
		}
		if h == "profiles."+name || h == "profiles."+strconv.Quote(name) || h == `profiles.'`+name+`'` {
			start = i
		}
	}
	if start < 0 {
		if has, _ := hasProfile(text, name); has {
			return nil, errors.New("profile " + strconv.Quote(name) + " is not written as a [profiles." + name + "] table: edit it by hand")
		}
		out := string(text)
		if out != "" && !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		if out != "" {
			out += "\n"
		}
		return []byte(out + table), nil
	}
	// Comment and blank lines right before the next table belong to it.
	for end > start+1 && isCommentOrBlank(lines[end-1]) {
		end--
	}
	rest := strings.Join(lines[end:], "")
	if rest != "" && strings.TrimSpace(strings.SplitN(rest, "\n", 2)[0]) != "" {
		table += "\n"
	}
	return []byte(strings.Join(lines[:start], "") + table + rest), nil
}

// header returns the table name of a "[a.b]" line, spaces removed.
func header(line string) (string, bool) {
	s := strings.TrimSpace(line)
	if !strings.HasPrefix(s, "[") || strings.HasPrefix(s, "[[") {
		return "", false
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return "", false
	}
	return strings.ReplaceAll(s[1:end], " ", ""), true
}

func isCommentOrBlank(line string) bool {
	s := strings.TrimSpace(line)
	return s == "" || strings.HasPrefix(s, "#")
}

// tomlKey writes a profile name as a bare key when it can be one.
func tomlKey(s string) string {
	for _, r := range s {
		if !(r == '-' || r == '_' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return tomlString(s)
		}
	}
	return s
}

// tomlString is a TOML literal string when s allows one (no escapes, so
// a Windows username reads as typed), else a basic string.
func tomlString(s string) string {
	if !strings.ContainsAny(s, "'\n\r") {
		return "'" + s + "'"
	}
	// A basic string; a control character left in it makes the file
	// invalid, which the final check reports.
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
