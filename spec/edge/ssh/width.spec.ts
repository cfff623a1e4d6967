import { columns, graphemes, graphemeWidth } from '../../../lib/edge/ssh/width';

describe('width', () => {
  it('counts CJK and emoji as two columns, accents and joiners as none', () => {
    expect(columns('abc')).toBe(3);
    expect(columns('日本語')).toBe(6);
    expect(columns('한국')).toBe(4);
    expect(columns('👍')).toBe(2);
    expect(columns('👍🏽')).toBe(2);
    expect(columns('👩‍👩‍👧')).toBe(2);
    expect(columns('e\u0301')).toBe(1);
    expect(columns('❤️')).toBe(2);
    expect(columns('ｆｕｌｌ')).toBe(8);
  });

  it('splits text into graphemes, an emoji with its modifiers or a letter with its accent as one', () => {
    expect(graphemes('ae\u0301👍🏽日')).toEqual(['a', 'e\u0301', '👍🏽', '日']);
    expect(graphemeWidth('\x07')).toBe(0);
  });
});
