// DeadlineQueue: the deadlines of many calls on one loop, behind one lazily
// re-armed timer. A call's deadline is an Entry it embeds; arming links the
// entry into a list kept in deadline order and cancelling (or destroying the
// entry) unlinks it, neither touching libevent: the one LazyTimer is re-added
// only when a deadline earlier than the one it waits for arrives. Calls with
// the same timeout arrive in deadline order, so arming is O(1) in practice
// (the list is searched from its tail). When the timer fires, every entry
// that came due is unlinked and its callback run, earliest first.
// One per client connection; used from that loop's thread only.
#pragma once

#include <event2/event.h>

#include <functional>

#include "event/clock.h"
#include "event/loop.h"

namespace switchyard::event {

class DeadlineQueue {
 public:
  class Entry {
   public:
    explicit Entry(std::function<void()> on_expiry) : on_expiry_(std::move(on_expiry)) {}
    ~Entry() { cancel(); }
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;

    void cancel();
    bool armed() const { return queue_ != nullptr; }

   private:
    friend class DeadlineQueue;
    std::function<void()> on_expiry_;
    DeadlineQueue* queue_ = nullptr;  // set while linked
    Entry* prev_ = nullptr;
    Entry* next_ = nullptr;
    Clock::TimePoint at_;
  };

  DeadlineQueue(event_base* base, Clock& clock);
  ~DeadlineQueue();
  DeadlineQueue(const DeadlineQueue&) = delete;
  DeadlineQueue& operator=(const DeadlineQueue&) = delete;

  // Runs e's callback at `at` (now, on the next pass, if `at` has passed),
  // unless it is cancelled first. Re-arming moves it.
  void arm(Entry& e, Clock::TimePoint at);
  bool empty() const { return head_ == nullptr; }

 private:
  void unlink(Entry& e);
  void onWake();

  Clock& clock_;
  Entry* head_ = nullptr;  // earliest
  Entry* tail_ = nullptr;  // latest
  LazyTimer timer_;
};

}  // namespace switchyard::event
