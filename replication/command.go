package replication

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/replication/replicationpb"
)

// commandVersion is the format version of the commands this binary writes
// and the newest it applies. Applying a newer command would not be
// deterministic across versions, so a replica that meets one stops.
const commandVersion = 1

// Command is a normal raft entry's payload.
type Command = replicationpb.Command

func encodeCommand(c *Command) ([]byte, error) {
	c.Version = commandVersion
	return proto.Marshal(c)
}

func decodeCommand(data []byte) (*Command, error) {
	c := &Command{}
	if err := proto.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("decoding raft command: %w", err)
	}
	if c.Version > commandVersion {
		return nil, fmt.Errorf("raft command has version %d, this binary applies up to %d", c.Version, commandVersion)
	}
	return c, nil
}
