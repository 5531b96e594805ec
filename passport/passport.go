// Package passport serves Passport IAM's token list and its neighbours
// (/v1/iam/oauth/tokens) over the tokend core: a thin adapter, no rules.
package passport

import (
	"log/slog"
	"net/http"

	"github.com/tokend/tokend"
)

// Server holds the dialect's handlers.
type Server struct {
	core   *tokend.Core
	logger *slog.Logger
}

// New returns the dialect's server over core.
func New(core *tokend.Core, logger *slog.Logger) *Server {
	return &Server{core: core, logger: logger}
}

// Register mounts the dialect's routes on mux.
func (s *Server) Register(mux *http.ServeMux) {
}
