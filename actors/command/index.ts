export { COMMAND_HEADER, ERASE_USER, encodeEraseUser, decodeCommand } from './command.ts';
export type { EraseUserCommand, DecodedCommand } from './command.ts';
