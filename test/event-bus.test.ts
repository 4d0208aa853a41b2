import { expect } from 'chai';
import type { ChatEvent } from '../src/chat/events';
import { InProcessBroker } from '../src/realtime/broker';
import { EventBus } from '../src/realtime/event-bus';
import { roomTopic } from '../src/realtime/topics';

const typing = (roomId: string): ChatEvent => ({ kind: 'typing', roomId, userId: 'u', isTyping: true, at: '2026-12-03T00:00:00.000Z' });

describe('EventBus', () => {
  it('keeps a topic while one of its listeners remains, and lets it go with the last', async () => {
    const bus = new EventBus((deliver) => new InProcessBroker(deliver));
    const heard: string[] = [];
    const first = bus.watch(() => heard.push('first'));
    const second = bus.watch(() => heard.push('second'));
    await first.add(roomTopic('r1'));
    await second.add(roomTopic('r1'));
    first.close();
    bus.publish(typing('r1'));
    expect(heard).to.deep.equal(['second']);
    expect(bus.topicCount).to.equal(1);
    second.remove(roomTopic('r1'));
    bus.publish(typing('r1'));
    expect(heard).to.deep.equal(['second']);
    expect(bus.topicCount).to.equal(0);
    await bus.close();
  });

  it("hands an event only to the listeners of its topic", async () => {
    const bus = new EventBus((deliver) => new InProcessBroker(deliver));
    const heard: string[] = [];
    await bus.watch((e) => heard.push(`a:${(e as { roomId: string }).roomId}`)).add(roomTopic('a'));
    await bus.watch((e) => heard.push(`b:${(e as { roomId: string }).roomId}`)).add(roomTopic('b'));
    bus.publish(typing('a'));
    expect(heard).to.deep.equal(['a:a']);
    await bus.close();
  });
});
