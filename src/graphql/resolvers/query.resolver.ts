import { Arg, Ctx, Extensions, Info, ID, Int, Query, Resolver } from 'type-graphql';
import { CHANGES_LIMIT } from '../../chat/changes/change.service';
import { HISTORY_LIMIT } from '../../chat/reading/viewer-reader';
import { PAGE_SIZE } from '../../chat/rooms/room.service';
import { SEARCH_LIMIT } from '../../chat/search/search.service';
import { listBound } from '../list-bounds';
import type { GraphQLResolveInfo } from 'graphql';
import type { GraphQLContext } from '../context';
import { historySelection, inboxSelection } from '../selection';
import { RoomType } from '../types/enums';
import { ChangeBatchObject, MessageObject, MessageSearchHitObject, RoomObject, RoomPageObject, UserObject } from '../types/object-types';

@Resolver()
export class QueryResolver {
  @Query(() => UserObject)
  async me(@Ctx() ctx: GraphQLContext): Promise<UserObject> {
    return (await ctx.rows().user(ctx.actor().id)) ?? { ...ctx.actor() };
  }

  @Query(() => RoomObject)
  room(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<RoomObject> {
    return ctx.viewer().requireRoom(id);
  }

  @Extensions(listBound({ arg: 'pageSize', max: PAGE_SIZE.max }))
  @Query(() => RoomPageObject, { description: 'Rooms the caller is an active member of, most recent activity first.' })
  rooms(
    @Ctx() ctx: GraphQLContext,
    @Arg('type', () => RoomType, { nullable: true }) type: RoomType | null,
    @Arg('page', () => Int, { nullable: true, defaultValue: 1 }) page: number | null,
    @Arg('pageSize', () => Int, { nullable: true, defaultValue: 20 }) pageSize: number | null,
    @Info() info: GraphQLResolveInfo,
  ): Promise<RoomPageObject> {
    return ctx.viewer().inbox(type ?? null, page ?? 1, pageSize ?? 20, inboxSelection(info));
  }

  @Extensions(listBound({ arg: 'pageSize', max: PAGE_SIZE.max }))
  @Query(() => RoomPageObject, { description: "GROUP rooms of the caller's company." })
  companyRooms(
    @Ctx() ctx: GraphQLContext,
    @Arg('page', () => Int, { nullable: true, defaultValue: 1 }) page: number | null,
    @Arg('pageSize', () => Int, { nullable: true, defaultValue: 20 }) pageSize: number | null,
  ): Promise<RoomPageObject> {
    return ctx.viewer().companyRooms(page ?? 1, pageSize ?? 20);
  }

  @Query(() => RoomObject, { nullable: true, description: 'The DIRECT room between the caller and userId, if there is one.' })
  directChat(@Arg('userId', () => ID) userId: string, @Ctx() ctx: GraphQLContext): Promise<RoomObject | null> {
    return ctx.viewer().directChat(userId);
  }

  @Extensions(listBound({ arg: 'limit', max: HISTORY_LIMIT.max }))
  @Query(() => [MessageObject], { description: 'Newest first; `before` is a message id (exclusive).' })
  messages(
    @Ctx() ctx: GraphQLContext,
    @Arg('roomId', () => ID) roomId: string,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 50 }) limit: number | null,
    @Arg('before', () => ID, { nullable: true }) before: string | null,
    @Arg('includeDeleted', () => Boolean, { nullable: true, defaultValue: false }) includeDeleted: boolean | null,
    @Info() info: GraphQLResolveInfo,
  ): Promise<MessageObject[]> {
    return ctx.viewer().history(roomId, limit ?? 50, before ?? null, includeDeleted ?? false, historySelection(info));
  }

  @Extensions(listBound({ arg: 'limit', max: CHANGES_LIMIT.max }))
  @Query(() => ChangeBatchObject, {
    description:
      "What changed in the caller's rooms since a cursor (Message.version or a previous cursor); without `since`, an empty batch and the current cursor.",
  })
  changes(
    @Ctx() ctx: GraphQLContext,
    @Arg('since', () => String, { nullable: true }) since: string | null,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 200 }) limit: number | null,
  ): Promise<ChangeBatchObject> {
    return ctx.services.changes.changes(ctx.actor(), since ?? null, limit ?? 200);
  }

  @Extensions(listBound({ arg: 'limit', max: SEARCH_LIMIT.max }))
  @Query(() => [MessageSearchHitObject], {
    description:
      "Full-text search over the messages of the caller's rooms (or one room), newest first; `before` is a message id (exclusive).",
  })
  async searchMessages(
    @Ctx() ctx: GraphQLContext,
    @Arg('query', () => String) query: string,
    @Arg('roomId', () => ID, { nullable: true }) roomId: string | null,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 20 }) limit: number | null,
    @Arg('before', () => ID, { nullable: true }) before: string | null,
  ): Promise<MessageSearchHitObject[]> {
    const { hits, senders } = await ctx.services.search.searchMessages(ctx.actor(), query, roomId ?? null, limit ?? 20, before ?? null);
    ctx.rows().primeUsers(senders);
    return hits;
  }

  @Extensions(listBound({ arg: 'limit', max: HISTORY_LIMIT.max }))
  @Query(() => [MessageObject], { description: 'Replies to a thread root, newest first; `before` is a reply id (exclusive).' })
  thread(
    @Ctx() ctx: GraphQLContext,
    @Arg('parentId', () => ID) parentId: string,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 50 }) limit: number | null,
    @Arg('before', () => ID, { nullable: true }) before: string | null,
  ): Promise<MessageObject[]> {
    return ctx.viewer().thread(parentId, limit ?? 50, before ?? null);
  }

  @Extensions(listBound({ arg: 'limit', max: HISTORY_LIMIT.max }))
  @Query(() => [MessageObject], { description: 'Messages that mention the caller, in rooms the caller is an active member of, newest first.' })
  mentions(
    @Ctx() ctx: GraphQLContext,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 50 }) limit: number | null,
    @Arg('before', () => ID, { nullable: true }) before: string | null,
  ): Promise<MessageObject[]> {
    return ctx.viewer().mentions(limit ?? 50, before ?? null);
  }

  @Query(() => MessageObject)
  message(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<MessageObject> {
    return ctx.viewer().message(id);
  }
}
