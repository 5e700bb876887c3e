import { ValidateIf } from 'class-validator';

/**
 * The field may be absent; when present it must pass its validators — `null` included. class-validator's own
 * IsOptional() skips validation for `null` as well, which hands `null` to code that expects a value (the schema
 * fuzzer found `{"username": null}` answering 500).
 */
export const Optional = (): PropertyDecorator => ValidateIf((_object: object, value: unknown) => value !== undefined);
