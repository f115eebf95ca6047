package cache

import (
	"bytes"
	"encoding/json"
	"testing"
)

func checkReadHeader(t *testing.T, b []byte) {
	var want jweHeader
	wantOK := json.Unmarshal(b, &want) == nil
	got, ok := readHeader(b)
	if ok != wantOK {
		t.Fatalf("readHeader(%q) ok %v, encoding/json %v", b, ok, wantOK)
	}
	if !ok {
		return
	}
	if got.Alg != want.Alg || got.Enc != want.Enc || got.P2S != want.P2S || got.Zip != want.Zip ||
		(got.P2C == nil) != (want.P2C == nil) || got.P2C != nil && *got.P2C != *want.P2C {
		t.Fatalf("readHeader(%q) = %+v, encoding/json %+v", b, got, want)
	}
}

func checkReadItem(t *testing.T, b []byte) {
	var want struct {
		Key  string
		Data []byte
	}
	wantOK := json.Unmarshal(b, &want) == nil
	key, data, ok := readItem(b)
	if ok != wantOK {
		t.Fatalf("readItem(%q) ok %v, encoding/json %v", b, ok, wantOK)
	}
	if ok && (key != want.Key || !bytes.Equal(data, want.Data) || (data == nil) != (want.Data == nil)) {
		t.Fatalf("readItem(%q) = %q %q, encoding/json %q %q", b, key, data, want.Key, want.Data)
	}
}

var readSeeds = []string{
	`{"alg":"PBES2-HS256+A128KW","created":"2026-11-30 01:00:00 +0000 UTC","enc":"A256GCM","p2c":8192,"p2s":"c2FsdHNhbHQ"}`,
	`{"alg":"a","p2c":8192.0}`, `{"p2c":1e3}`, `{"p2c":-1}`, `{"p2c":99999999999999999999}`, `{"p2c":null,"alg":null}`,
	`{"alg":"x","alg":"y"}`, `{"zip":"DEF","x":{"y":[1,{"z":null}]}}`, `null`, ` {} `, `{}x`, `[]`, `"s"`, `{"alg":1}`,
	`{"alg":"\u00e9\ud800"}`, `{"Key":"k","Data":"aGVsbG8="}`, `{"Key":"k","Data":"aGVs\nbG8="}`, `{"Key":"k","Data":null}`,
	`{"Key":"k","Data":"!!"}`, `{"Key":"k","Data":""}`, `{"Key":"k","Data":"YQ==","Data":"Yg=="}`, `{"Key":7}`,
	`{"Key":"k","Data":"aGVsbG8=","Label":"","Description":"","KeychainNotTrustApplication":false,"KeychainNotSynchronizable":false}`,
}

func TestReadHeaderItem(t *testing.T) {
	for _, s := range readSeeds {
		checkReadHeader(t, []byte(s))
		checkReadItem(t, []byte(s))
	}
	// An item sealed here reads back.
	raw, err := sealItem("k1", []byte("entry bytes"), "pw")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := openItem("k1", raw, "pw"); err != nil || string(got) != "entry bytes" {
		t.Fatalf("openItem: %q %v", got, err)
	}
}

func FuzzReadHeaderItem(f *testing.F) {
	for _, s := range readSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !foldedKey(b, []string{"alg", "enc", "p2c", "p2s", "zip"}) {
			checkReadHeader(t, b)
		}
		if !foldedKey(b, []string{"Key", "Data"}) {
			checkReadItem(t, b)
		}
	})
}
