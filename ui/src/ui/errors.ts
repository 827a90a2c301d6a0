// A readable, translated sentence for any failure.

import { isClientError, type ErrorCode, type LocalErrorCode } from '../client';
import type { I18n, MessageKey } from '../i18n';

export const ERROR_KEYS: Record<ErrorCode | LocalErrorCode, MessageKey> = {
  malformed_frame: 'error.malformed_frame',
  unknown_type: 'error.unknown_type',
  bad_request: 'error.bad_request',
  frame_too_large: 'error.frame_too_large',
  unsupported_version: 'error.unsupported_version',
  unauthenticated: 'error.unauthenticated',
  invalid_token: 'error.invalid_token',
  token_expired: 'error.token_expired',
  token_revoked: 'error.token_revoked',
  wrong_credentials: 'error.wrong_credentials',
  username_taken: 'error.username_taken',
  invalid_username: 'error.invalid_username',
  weak_password: 'error.weak_password',
  already_authenticated: 'error.already_authenticated',
  not_found: 'error.not_found',
  not_member: 'error.not_member',
  forbidden: 'error.forbidden',
  too_long: 'error.too_long',
  invalid_argument: 'error.invalid_argument',
  recall_window_passed: 'error.recall_window_passed',
  already_recalled: 'error.already_recalled',
  group_full: 'error.group_full',
  muted: 'error.muted',
  group_dissolved: 'error.group_dissolved',
  already_exists: 'error.already_exists',
  not_allowed: 'error.not_allowed',
  media_too_large: 'error.media_too_large',
  media_type_mismatch: 'error.media_type_mismatch',
  invalid_media: 'error.invalid_media',
  image_too_large: 'error.image_too_large',
  incomplete_upload: 'error.incomplete_upload',
  url_expired: 'error.url_expired',
  range_not_satisfiable: 'error.range_not_satisfiable',
  assistant_not_configured: 'error.assistant_not_configured',
  rate_limited: 'error.rate_limited',
  internal: 'error.internal',
  unavailable: 'error.unavailable',
  timeout: 'error.timeout',
  connection_lost: 'error.connection_lost',
  not_connected: 'error.not_connected',
  network: 'error.network',
  closed: 'error.closed',
};

export function errorCodeText(t: I18n['t'], code: string | undefined | null): string {
  const key = code ? ERROR_KEYS[code as ErrorCode] : undefined;
  return key ? t(key) : t('error.generic');
}

export function errorText(t: I18n['t'], e: unknown): string {
  if (isClientError(e)) return errorCodeText(t, e.code);
  return t('error.generic');
}
