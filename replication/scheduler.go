package replication

import "sync"

// scheduler runs replica processing on a fixed pool of workers. A range is
// processed by at most one worker at a time; enqueueing a range that is
// being processed makes it run again afterwards, so no event is lost.
type scheduler struct {
	process func(RangeID)

	mu struct {
		sync.Mutex
		cond    *sync.Cond
		queue   []RangeID
		state   map[RangeID]schedState
		stopped bool
	}
	wg sync.WaitGroup
}

type schedState uint8

const (
	schedQueued schedState = 1 << iota
	schedProcessing
	schedRequeue
)

func newScheduler(process func(RangeID)) *scheduler {
	s := &scheduler{process: process}
	s.mu.cond = sync.NewCond(&s.mu.Mutex)
	s.mu.state = map[RangeID]schedState{}
	return s
}

// start launches n workers; stop joins them.
func (s *scheduler) start(n int) {
	for i := 0; i < n; i++ {
		s.wg.Add(1)
		go s.worker()
	}
}

func (s *scheduler) stop() {
	s.mu.Lock()
	s.mu.stopped = true
	s.mu.cond.Broadcast()
	s.mu.Unlock()
	s.wg.Wait()
}

// enqueue schedules id for processing.
func (s *scheduler) enqueue(id RangeID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.mu.state[id]
	switch {
	case st&schedProcessing != 0:
		s.mu.state[id] = st | schedRequeue
	case st&schedQueued == 0:
		s.mu.state[id] = st | schedQueued
		s.mu.queue = append(s.mu.queue, id)
		s.mu.cond.Signal()
	}
}

func (s *scheduler) worker() {
	defer s.wg.Done()
	s.mu.Lock()
	for {
		for len(s.mu.queue) == 0 && !s.mu.stopped {
			s.mu.cond.Wait()
		}
		if s.mu.stopped {
			s.mu.Unlock()
			return
		}
		id := s.mu.queue[0]
		s.mu.queue[0] = 0
		s.mu.queue = s.mu.queue[1:]
		s.mu.state[id] = schedProcessing
		s.mu.Unlock()

		s.process(id)

		s.mu.Lock()
		if s.mu.state[id]&schedRequeue != 0 {
			s.mu.state[id] = schedQueued
			s.mu.queue = append(s.mu.queue, id)
			s.mu.cond.Signal()
		} else {
			delete(s.mu.state, id)
		}
	}
}
