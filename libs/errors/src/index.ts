export { AppError, ErrorCode, ERROR_STATUS } from './app-error';
export { AppErrorFilter } from './app-error.filter';
