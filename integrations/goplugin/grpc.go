package goplugin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	pb "github.com/veeam-tools/veeam-credential-helper/integrations/goplugin/proto"
	"github.com/veeam-tools/veeam-credential-helper/protocol"
)

// Plugin is the go-plugin glue (gRPC only). Impl is set on the serving
// side; a host leaves it nil.
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl answers the calls on the serving side.
	Impl CredentialHelper
}

var _ plugin.GRPCPlugin = (*Plugin)(nil)

// GRPCServer registers the service on the plugin's gRPC server.
func (p *Plugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("goplugin: Plugin.Impl is nil")
	}
	pb.RegisterCredentialHelperServer(s, &grpcServer{impl: p.Impl})
	return nil
}

// GRPCClient returns a CredentialHelper that calls the plugin.
func (p *Plugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &grpcClient{c: pb.NewCredentialHelperClient(c)}, nil
}

// grpcServer adapts a CredentialHelper to the generated service.
type grpcServer struct {
	pb.UnimplementedCredentialHelperServer
	impl CredentialHelper
}

func (s *grpcServer) GetCredential(ctx context.Context, r *pb.GetCredentialRequest) (*pb.Credential, error) {
	if r.MinValidSeconds < 0 {
		return nil, toStatus(exitcode.UsageError("min_valid_seconds must not be negative"))
	}
	c, err := s.impl.GetCredential(ctx, Request{
		Profile:      r.Profile,
		MinValid:     time.Duration(r.MinValidSeconds) * time.Second,
		ForceRefresh: r.ForceRefresh,
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.Credential{
		Profile:     c.Profile,
		Product:     c.Product,
		Url:         c.URL,
		Username:    c.Username,
		TokenType:   c.TokenType,
		AccessToken: c.AccessToken,
		ExpiresAt:   c.ExpiresAt.Unix(),
		Source:      c.Source,
	}, nil
}

func (s *grpcServer) Invalidate(ctx context.Context, r *pb.InvalidateRequest) (*pb.InvalidateResponse, error) {
	if err := s.impl.Invalidate(ctx, r.Profile); err != nil {
		return nil, toStatus(err)
	}
	return &pb.InvalidateResponse{}, nil
}

func (s *grpcServer) ListProfiles(ctx context.Context, _ *pb.ListProfilesRequest) (*pb.ListProfilesResponse, error) {
	ps, err := s.impl.ListProfiles(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &pb.ListProfilesResponse{}
	for _, p := range ps {
		out.Profiles = append(out.Profiles, &pb.Profile{Name: p.Name, Product: p.Product, Url: p.URL, Username: p.Username})
		if p.Default {
			out.DefaultProfile = p.Name
		}
	}
	return out, nil
}

// grpcCodes maps exit codes to gRPC status codes.
var grpcCodes = map[int]codes.Code{
	exitcode.Unexpected:  codes.Internal,
	exitcode.Usage:       codes.InvalidArgument,
	exitcode.Rejected:    codes.Unauthenticated,
	exitcode.Unreachable: codes.Unavailable,
	exitcode.Interaction: codes.FailedPrecondition,
	exitcode.Cache:       codes.Unavailable,
}

// toStatus turns an error into a gRPC status whose message is the helper's
// one-line message and whose details carry the exit code.
func toStatus(err error) error {
	var e *exitcode.Error
	if !errors.As(err, &e) {
		switch {
		case errors.Is(err, context.Canceled):
			return status.Error(codes.Canceled, err.Error())
		case errors.Is(err, context.DeadlineExceeded):
			return status.Error(codes.DeadlineExceeded, err.Error())
		}
		e = &exitcode.Error{Exit: exitcode.Unexpected, Msg: err.Error()}
	}
	c, ok := grpcCodes[e.Exit]
	if !ok {
		c = codes.Unknown
	}
	st, derr := status.New(c, e.Msg).WithDetails(&pb.ErrorDetail{ExitCode: int32(e.Exit), Code: e.Code()})
	if derr != nil {
		return status.Error(c, e.Msg)
	}
	return st.Err()
}

// fromStatus turns a failed call back into an *exitcode.Error when the helper
// answered it, else into an error saying the plugin call failed.
func fromStatus(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("veeam-credential-helper plugin: %w", err)
	}
	for _, d := range st.Details() {
		if ed, ok := d.(*pb.ErrorDetail); ok {
			return &exitcode.Error{Exit: int(ed.ExitCode), Msg: st.Message()}
		}
	}
	switch st.Code() {
	case codes.Canceled:
		return fmt.Errorf("veeam-credential-helper plugin: %s: %w", st.Message(), context.Canceled)
	case codes.DeadlineExceeded:
		return fmt.Errorf("veeam-credential-helper plugin: %s: %w", st.Message(), context.DeadlineExceeded)
	}
	return fmt.Errorf("veeam-credential-helper plugin call failed (%s): %s", st.Code(), st.Message())
}

// grpcClient is the host's side: a CredentialHelper over gRPC.
type grpcClient struct {
	c pb.CredentialHelperClient
}

func (c *grpcClient) GetCredential(ctx context.Context, r Request) (*protocol.Credential, error) {
	if r.MinValid < 0 {
		return nil, exitcode.UsageError("MinValid must not be negative")
	}
	// Round up: "at least MinValid" must not shrink on the wire.
	secs := int64((r.MinValid + time.Second - 1) / time.Second)
	resp, err := c.c.GetCredential(ctx, &pb.GetCredentialRequest{Profile: r.Profile, MinValidSeconds: secs, ForceRefresh: r.ForceRefresh})
	if err != nil {
		return nil, fromStatus(err)
	}
	return &protocol.Credential{
		Profile:     resp.Profile,
		Product:     resp.Product,
		URL:         resp.Url,
		Username:    resp.Username,
		TokenType:   resp.TokenType,
		AccessToken: resp.AccessToken,
		ExpiresAt:   time.Unix(resp.ExpiresAt, 0),
		Source:      resp.Source,
	}, nil
}

func (c *grpcClient) Invalidate(ctx context.Context, profile string) error {
	if _, err := c.c.Invalidate(ctx, &pb.InvalidateRequest{Profile: profile}); err != nil {
		return fromStatus(err)
	}
	return nil
}

func (c *grpcClient) ListProfiles(ctx context.Context) ([]Profile, error) {
	resp, err := c.c.ListProfiles(ctx, &pb.ListProfilesRequest{})
	if err != nil {
		return nil, fromStatus(err)
	}
	out := make([]Profile, 0, len(resp.Profiles))
	for _, p := range resp.Profiles {
		out = append(out, Profile{Name: p.Name, Product: p.Product, URL: p.Url, Username: p.Username, Default: p.Name == resp.DefaultProfile})
	}
	return out, nil
}
