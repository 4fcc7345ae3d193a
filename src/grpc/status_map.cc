#include "grpc/status_map.h"

namespace switchyard::grpc {

StatusCode statusFromHttpStatus(int http_status) {
  switch (http_status) {
    case 400:
      return StatusCode::Internal;
    case 401:
      return StatusCode::Unauthenticated;
    case 403:
      return StatusCode::PermissionDenied;
    case 404:
      return StatusCode::Unimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return StatusCode::Unavailable;
    case 431:
      return StatusCode::Internal;
    default:
      return StatusCode::Unknown;
  }
}

StatusCode statusFromRstStream(uint32_t h2_error_code, bool /*sent_by_server*/) {
  switch (h2_error_code) {
    case h2error::kRefusedStream:
      return StatusCode::Unavailable;
    case h2error::kCancel:
      return StatusCode::Cancelled;
    case h2error::kEnhanceYourCalm:
      return StatusCode::ResourceExhausted;
    case h2error::kInadequateSecurity:
      return StatusCode::PermissionDenied;
    case h2error::kNoError:
    case h2error::kProtocolError:
    case h2error::kInternalError:
    case h2error::kFlowControlError:
    case h2error::kSettingsTimeout:
    case h2error::kStreamClosed:
    case h2error::kFrameSizeError:
    case h2error::kCompressionError:
    case h2error::kConnectError:
    case h2error::kHttp11Required:
    default:
      return StatusCode::Internal;
  }
}

}  // namespace switchyard::grpc
