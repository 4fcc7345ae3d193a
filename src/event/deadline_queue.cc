#include "event/deadline_queue.h"

namespace switchyard::event {

void DeadlineQueue::Entry::cancel() {
  if (queue_ != nullptr) queue_->unlink(*this);
}

DeadlineQueue::DeadlineQueue(event_base* base, Clock& clock)
    : clock_(clock), timer_(base, [this] { onWake(); }, clock) {}

DeadlineQueue::~DeadlineQueue() {
  while (head_ != nullptr) unlink(*head_);
}

void DeadlineQueue::arm(Entry& e, Clock::TimePoint at) {
  e.cancel();
  e.at_ = at;
  e.queue_ = this;
  Entry* after = tail_;  // the entry e goes after: the last one due no later than e
  while (after != nullptr && after->at_ > at) after = after->prev_;
  e.prev_ = after;
  e.next_ = after != nullptr ? after->next_ : head_;
  if (e.next_ != nullptr) {
    e.next_->prev_ = &e;
  } else {
    tail_ = &e;
  }
  if (after != nullptr) {
    after->next_ = &e;
  } else {
    head_ = &e;
    timer_.arm(at - clock_.now());  // a new earliest deadline
  }
}

void DeadlineQueue::unlink(Entry& e) {
  if (e.prev_ != nullptr) {
    e.prev_->next_ = e.next_;
  } else {
    head_ = e.next_;
  }
  if (e.next_ != nullptr) {
    e.next_->prev_ = e.prev_;
  } else {
    tail_ = e.prev_;
  }
  e.prev_ = e.next_ = nullptr;
  e.queue_ = nullptr;
  // The timer stays as it is: waking for a deadline that went away costs one
  // early wake-up, cancelling it would cost a libevent call per RPC.
  if (head_ == nullptr) timer_.cancel();
}

void DeadlineQueue::onWake() {
  Clock::TimePoint now = clock_.now();
  // A callback may end other calls (their entries unlink): take the head anew each time.
  while (head_ != nullptr && head_->at_ <= now) {
    Entry& due = *head_;
    unlink(due);
    due.on_expiry_();
  }
  if (head_ != nullptr) timer_.arm(head_->at_ - now);
}

}  // namespace switchyard::event
