// Package bus is the event bus plugin of lihil (the seed's bus_plugin) as
// a reusable graft plugin: typed endpoints that declare a *bus.Bus plugin
// field get one, and publish events to the subscribers of a Terminal,
// which have the app's dependency graph in reach.
//
//	term := bus.NewTerminal()
//	bus.On(term, func(ctx context.Context, g *di.Graph, e UserCreated) error {
//		log, err := di.Get[*EventLog](g)
//		if err != nil {
//			return err
//		}
//		log.Add(e)
//		return nil
//	})
//	users := app.Group("/users", graft.Plugins(bus.Plugin(term)))
//
//	type CreateUserIn struct {
//		UserID string   `path:"user_id"`
//		Bus    *bus.Bus `plugin:""` // never read from the request
//	}
//	func createUser(ctx context.Context, in *CreateUserIn) (*CreateUserOut, error) {
//		if err := in.Bus.Publish(ctx, UserCreated{UserID: in.UserID}); err != nil {
//			return nil, err
//		}
//		…
//	}
//
// Publish delivers the event synchronously, in subscription order, to
// every subscriber of its type (On) and every untyped one (Subscribe),
// and returns the first error; a panicking subscriber is an error naming
// the event's type, not a crash. Subscribers may be added at any time,
// also while requests publish.
//
// The plugin returns endpoints without a *bus.Bus field unchanged, so
// they cost nothing; on the others it sets the field, one Bus per
// endpoint made at start-up, with no allocation per request.
package bus
