import type { MessageKey } from '../../i18n';

export const EMOJI_GROUPS: Array<{ id: string; label: MessageKey; emoji: string[] }> = [
  {
    id: 'smileys',
    label: 'emoji.smileys',
    emoji: Array.from('😀😃😄😁😆😅😂🤣😊😇🙂🙃😉😌😍🥰😘😗😋😛😜🤪😝🤗🤭🤫🤔🤐🤨😐😑😶😏😒🙄😬😮‍💨🤥😔😪😴😷🤒🤕🥵🥶🥴😵🤯🤠🥳😎🤓🧐😕😟🙁😮😯😲😳🥺😦😧😨😰😥😢😭😱😖😣😞😓😩😫🥱😤😡😠🤬'.replace('😮‍💨', '')),
  },
  {
    id: 'gestures',
    label: 'emoji.gestures',
    emoji: Array.from('👍👎👌✌🤞🤟🤘🤙👈👉👆👇☝✋🤚🖐🖖👋👏🙌👐🤲🤝🙏💪✍'),
  },
  {
    id: 'hearts',
    label: 'emoji.hearts',
    emoji: Array.from('❤🧡💛💚💙💜🖤🤍🤎💔💕💞💓💗💖💘💝'),
  },
  {
    id: 'objects',
    label: 'emoji.objects',
    emoji: Array.from('🎉🎊🎁🎈🔥✨⭐🌟💯✅❌❓❗💡📌📎📅⏰☕🍵🍺🍻🥂🍕🍔🍜🍣🍰🎂🍎🍉⚽🏀🎮🎧🎵📷💻📱🚀✈🚗🏠🌈☀🌙⛄🌸🌹🍀'),
  },
];
