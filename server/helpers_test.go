package server

import "github.com/meridiandb/meridian/ranges"

func rangesSendOptions() ranges.SendOptions { return ranges.SendOptions{} }
