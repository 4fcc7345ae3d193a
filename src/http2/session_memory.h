// The nghttp2_mem every Connection's session allocates through: blocks of up
// to 1 KiB come from free lists kept per thread (each session lives on one
// worker thread), so the stream, frame and header-table allocations nghttp2
// makes for every RPC reuse blocks instead of going through malloc and free.
// Larger blocks are what a session allocates once (the HPACK ring buffers,
// the session itself, its frame buffer): they go to malloc at their own size,
// since rounding them up to a class would cost every idle connection memory.
// A thread keeps at most kMaxRetainedBytes of free blocks; larger requests and
// anything past that go to malloc/free. Freeing on another thread than the
// one that allocated is safe (the block joins that thread's lists).
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>

namespace switchyard::http2 {

constexpr size_t kMaxRetainedBytes = 256 * 1024;

nghttp2_mem* sessionMemory();

// Free bytes the calling thread keeps for reuse (for tests).
size_t retainedSessionBytes();

}  // namespace switchyard::http2
