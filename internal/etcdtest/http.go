package etcdtest

import (
	"crypto/tls"
	"net/http"
	"runtime"
	"time"
)

type httpClient = http.Client

func newHTTPClient(cfg *tls.Config) *http.Client {
	return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
}

// goarchForEtcd lets etcd 3.4 start on architectures it calls unsupported
// (it refuses them unless ETCD_UNSUPPORTED_ARCH names the one it runs on).
func goarchForEtcd() string { return runtime.GOARCH }
