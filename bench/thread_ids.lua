-- Shared start of the wrk scripts that split work by thread (loaded with
-- dofile from the project root): each thread gets `thread_id`, 1, 2, ...
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
