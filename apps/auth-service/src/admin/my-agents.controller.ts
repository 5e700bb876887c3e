import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ServiceAccountsService } from '@app/accounts';
import { AppError, ErrorCode } from '@app/errors';
import { BearerGuard } from '../http/bearer.guard';
import type { Principal } from '../http/principal';
import { CurrentPrincipal } from './principal.decorator';

/** An agent a person may let act for them: what it is called, nothing it authenticates with. */
export class AgentChoiceView {
  @ApiProperty({ example: 'copilot' }) name: string;
  @ApiProperty() clientId: string;
}

/** Self-service: the agents a person can choose on their Passkeys page ("Agents acting for you"). */
@ApiTags('me')
@ApiBearerAuth()
@UseGuards(BearerGuard)
@Controller('v1/me/agents')
export class MyAgentsController {
  constructor(private readonly accounts: ServiceAccountsService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'The enabled agents I may let act for me: names and client ids only' })
  @ApiOkResponse({ type: [AgentChoiceView] })
  async list(@CurrentPrincipal() principal: Principal): Promise<AgentChoiceView[]> {
    if (principal.kind !== 'user') throw new AppError(ErrorCode.Forbidden, 'only a person delegates to agents');
    return (await this.accounts.enabledAgents()).map((a) => ({ name: a.name, clientId: a.clientId }));
  }
}
