package checkrun

import "github.com/meridiandb/meridian/truetime"

func nowNanos() int64 { return int64(truetime.Mono()) }
