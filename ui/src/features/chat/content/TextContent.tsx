import { memo } from 'react';
import { linkify } from '../linkify';

/** Message text as React text nodes and links: nothing in it is ever parsed as HTML. */
export const TextContent = memo(function TextContent({ text, mentionNames }: { text: string; mentionNames?: string[] }) {
  const parts = linkify(text, mentionNames);
  return (
    <span className="text-content">
      {parts.map((p, i) =>
        p.kind === 'link' ? (
          <a key={i} href={p.href} target="_blank" rel="noopener noreferrer nofollow">
            {p.text}
          </a>
        ) : p.kind === 'mention' ? (
          <span key={i} className="mention">
            {p.text}
          </span>
        ) : (
          <span key={i}>{p.text}</span>
        ),
      )}
    </span>
  );
});
