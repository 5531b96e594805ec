// Package kustvakt serves KorAP Kustvakt's super-client token list and
// revocation over the tokend core: a thin adapter, no rules.
package kustvakt

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
