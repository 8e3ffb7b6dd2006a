#include "kassa/storage/key_rotation.h"

#include "kassa/base/log.h"

namespace kassa::storage {

Status KeyRotation::Begin() {
  if (Pending()) return Status(StatusCode::kAlreadyExists, "key: a rotation is under way");
  KASSA_TRY(keys_->AddGeneration().status());
  next_ = 0;
  slots_ = 0;
  rewrapped_ = 0;
  return Status::Ok();
}

Result<bool> KeyRotation::Step() {
  if (!Pending()) return true;
  KASSA_TRY_ASSIGN(const RewrapBatch batch, rewrap_(next_, kBatch));
  next_ = batch.next;
  slots_ = batch.slots;
  rewrapped_ += batch.rewrapped;
  if (!batch.done) return false;
  KASSA_TRY_ASSIGN(const crypto::MasterKey current, keys_->Current());
  for (const std::uint32_t generation : keys_->Generations()) {
    if (generation != current.generation) KASSA_TRY(keys_->Retire(generation));
  }
  KASSA_LOG(kInfo) << "master key rotation done: " << rewrapped_ << " key(s) re-wrapped under generation "
                   << current.generation << " (" << slots_ << " slots); older generations destroyed";
  next_ = 0;
  return true;
}

KeyRotation::Progress KeyRotation::progress() const {
  return Progress{Pending(), next_, slots_, rewrapped_, keys_->Generations()};
}

}  // namespace kassa::storage
