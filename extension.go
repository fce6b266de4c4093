package graft

import (
	"context"
	"log/slog"
)

// Extension is a unit of added behaviour registered with App.Register.
type Extension interface {
	// ID names the extension, e.g. "graft.ext.cookies".
	ID() string
}

// extensionSet is the registry of an app's extensions.
type extensionSet struct {
	sealed bool
}

func (s *extensionSet) stopAll(ctx context.Context, l *slog.Logger) {}
