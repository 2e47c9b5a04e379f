package topology

import (
	"embed"
	"fmt"
	"sort"
	"strings"
)

// The presets are ordinary topology files, embedded: they double as
// examples of the format.
//
//go:embed presets/*.yaml
var presetFS embed.FS

// PresetNames lists the presets.
func PresetNames() []string {
	ents, err := presetFS.ReadDir("presets")
	if err != nil {
		panic(fmt.Sprintf("embedded presets unreadable: %v", err))
	}
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// Preset returns a fresh copy of the named preset.
func Preset(name string) (*Topology, error) {
	data, err := presetFS.ReadFile("presets/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no preset topology %q (presets: %s)", name, strings.Join(PresetNames(), ", "))
	}
	return Parse("presets/"+name+".yaml", data)
}

// PresetSource returns the file text of the named preset.
func PresetSource(name string) ([]byte, error) {
	return presetFS.ReadFile("presets/" + name + ".yaml")
}
