// Package credentialpb is the generated gRPC code of the go-plugin service
// (credential.proto). The generated files are committed; regenerate them
// after editing credential.proto with
//
//	go generate ./integrations/goplugin/proto
//
// which needs protoc (Debian: apt-get install protobuf-compiler) and the two
// Go plugins on PATH:
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go            # version from go.mod
//	go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
package credentialpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative credential.proto
