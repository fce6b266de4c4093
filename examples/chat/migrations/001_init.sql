-- The chat's tables: users with their password hashes, rooms, messages
-- (stored before they are published), and settings shared by every node
-- on the same database (the token signing key).
CREATE TABLE users (
	name    TEXT PRIMARY KEY,
	hash    TEXT NOT NULL,
	created TEXT NOT NULL
);
CREATE TABLE rooms (
	name    TEXT PRIMARY KEY,
	created TEXT NOT NULL
);
CREATE TABLE messages (
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	room   TEXT NOT NULL,
	sender TEXT NOT NULL,
	text   TEXT NOT NULL,
	ts     TEXT NOT NULL
);
CREATE INDEX messages_by_room ON messages (room, id);
CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
);
