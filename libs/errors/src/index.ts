export { AppError, ErrorCode, ERROR_STATUS } from './app-error';
