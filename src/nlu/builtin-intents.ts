import type { TrainingIntent } from './port';

/**
 * Intents every bot understands without declaring them. A bot's own corpus is trained together
 * with these (see {@link builtinIntentsFor}); flows decide what to do when one of them wins.
 *
 * Names are stable API: `builtin.greeting`, `builtin.thanks`, `builtin.goodbye`, `builtin.human`,
 * `builtin.restart`, `builtin.cancel`.
 *
 * The examples deliberately include casual phrasing, missing apostrophes and common typos, because
 * that is what people type on messaging channels. No example appears in two intents.
 */
export const BUILTIN_INTENTS: Record<'en' | 'es' | 'fr' | 'de', TrainingIntent[]> = {
  en: [
    {
      intent: 'builtin.greeting',
      examples: [
        'hello',
        'hi',
        'hey there',
        'hiya',
        'good morning',
        'good afternoon',
        'good evening',
        'hello, is anyone there?',
        'hi, I need some help',
        'hey, can you help me',
        'helo',
        'heya!',
        'greetings',
        'yo',
        'howdy',
        'hi there, how are you?',
        'morning!',
      ],
    },
    {
      intent: 'builtin.thanks',
      examples: [
        'thanks',
        'thank you',
        'thank you so much',
        'thanks a lot',
        'many thanks',
        'thx',
        'ty',
        'cheers',
        'thanks, that helped',
        'great, thanks for your help',
        'much appreciated',
        'I appreciate it',
        'thnaks',
        'thank u',
        'perfect, thank you!',
        'awesome thanks',
        'that was really helpful, thanks',
      ],
    },
    {
      intent: 'builtin.goodbye',
      examples: [
        'bye',
        'goodbye',
        'bye bye',
        'see you',
        'see ya later',
        'talk to you later',
        'have a nice day',
        'have a good one',
        'that is all for today, bye',
        "that's everything, goodbye",
        'gotta go',
        'cya',
        'good night',
        'take care',
        'catch you later',
        'byee',
        "I'm done here, bye",
      ],
    },
    {
      intent: 'builtin.human',
      examples: [
        'I want to talk to a human',
        'can I speak to a person',
        'let me talk to someone',
        'connect me to an agent',
        'I need a real person',
        'transfer me to a representative',
        'get me a human',
        'this bot is useless, get me a human',
        'talk to someone please',
        'is there a human I can chat with',
        'I want to speak with customer service',
        'put me through to a live agent',
        'operator',
        'speak to a real human being',
        'can i talk to an actual person pls',
        'humna please',
        'I dont want to talk to a bot',
        'can a member of staff help me',
        'call me, I want a person',
      ],
    },
    {
      intent: 'builtin.restart',
      examples: [
        'start over',
        "let's begin again",
        'reset',
        'restart',
        'start again',
        'can we start from the beginning',
        'begin from scratch',
        'go back to the start',
        "let's start fresh",
        'reset the conversation',
        'start all over again',
        'restart the chat',
        'from the top please',
        'strat over',
        'i want to start again from the beginning',
        'main menu',
        'take me back to the beginning',
      ],
    },
    {
      intent: 'builtin.cancel',
      examples: [
        'cancel',
        'never mind',
        'stop this',
        'forget it',
        'nevermind',
        'cancel that',
        'no, stop',
        "I don't want to do this anymore",
        "let's not do that",
        'abort',
        'forget about it',
        'stop asking me questions',
        'quit this',
        'nvm',
        'cancle',
        'drop it',
        'actually, never mind',
        "I've changed my mind",
      ],
    },
  ],
  // Spanish: written the way people type in chats (with and without accents and ¿¡), Spain and Latin America.
  es: [
    {
      intent: 'builtin.greeting',
      examples: ['hola', 'buenas', 'buenos días', 'buenos dias', 'buenas tardes', 'hola, ¿hay alguien ahí?', 'hola, necesito ayuda', 'hola, ¿me puedes ayudar?', 'holaa', 'ola', 'qué tal', 'hola, ¿qué tal?', 'saludos', 'hola buenas', 'buen día', 'hola, ¿cómo estás?', 'muy buenas'],
    },
    {
      intent: 'builtin.thanks',
      examples: ['gracias', 'muchas gracias', 'mil gracias', 'muchísimas gracias', 'gracias por tu ayuda', 'te lo agradezco', 'gracias, me ha servido', 'genial, gracias', 'perfecto, gracias', 'grax', 'grasias', 'gracias!!', 'muy amable', 'gracias de verdad', 'se agradece', 'vale, gracias', 'ok gracias'],
    },
    {
      intent: 'builtin.goodbye',
      examples: ['adiós', 'adios', 'hasta luego', 'chao', 'chau', 'nos vemos', 'hasta pronto', 'hasta mañana', 'que tengas un buen día', 'eso es todo, adiós', 'ya está, hasta luego', 'me tengo que ir', 'bueno, me voy', 'cuídate', 'hasta la próxima', 'eso era todo, chao', 'bye bye, hasta otra'],
    },
    {
      intent: 'builtin.human',
      examples: [
        'quiero hablar con una persona',
        '¿puedo hablar con un humano?',
        'pásame con un agente',
        'necesito hablar con alguien de verdad',
        'quiero hablar con un operador',
        'ponme con atención al cliente',
        'hablar con una persona real',
        'no quiero hablar con un bot',
        'este bot no sirve, quiero una persona',
        '¿hay alguien con quien pueda hablar?',
        'me puedes pasar con un asesor',
        'quiero un agente humano',
        'operador',
        'llamadme, quiero hablar con alguien',
        'necesito que me atienda una persona',
        'comunícame con un empleado',
        'una persona por favor',
        'kiero hablar con alguien',
      ],
    },
    {
      intent: 'builtin.restart',
      examples: ['empezar de nuevo', 'volver a empezar', 'reiniciar', 'empecemos otra vez', 'desde el principio', 'vamos a empezar de cero', 'reinicia la conversación', 'volver al inicio', 'menú principal', 'quiero empezar de nuevo', 'resetear', 'empezar otra vez desde el principio', 'llévame al principio', 'volver al menú', 'borra todo y empezamos otra vez', 'enpezar de nuevo'],
    },
    {
      intent: 'builtin.cancel',
      examples: ['cancelar', 'olvídalo', 'déjalo', 'da igual', 'cancela eso', 'para', 'no, para', 'ya no quiero hacer esto', 'mejor no', 'olvida lo que dije', 'deja de preguntarme cosas', 'salir de esto', 'anular', 'cancelalo', 'he cambiado de opinión', 'en realidad no, déjalo', 'olvidalo'],
    },
  ],
  // French: "vous" and "tu", with and without accents, as typed on phones.
  fr: [
    {
      intent: 'builtin.greeting',
      examples: ['bonjour', 'salut', 'bonsoir', 'coucou', "bonjour, il y a quelqu'un ?", "bonjour, j'ai besoin d'aide", "salut, vous pouvez m'aider ?", 'bjr', 'slt', 'bonjour à vous', 'bonjour, comment allez-vous ?', 'rebonjour', 'bonjour madame, bonjour monsieur', 'allô', 'bonjour bonjour', 'salut, ça va ?', 'bonjour, vous êtes là ?'],
    },
    {
      intent: 'builtin.thanks',
      examples: ['merci', 'merci beaucoup', 'merci bien', 'mille mercis', 'merci pour votre aide', 'je vous remercie', "merci, ça m'a aidé", 'super, merci', 'parfait, merci', 'mrc', 'merci !!', "c'est très gentil", 'merci infiniment', 'top merci', 'ok merci', "d'accord, merci", 'merci pour tout'],
    },
    {
      intent: 'builtin.goodbye',
      examples: ['au revoir', 'à bientôt', 'a bientot', 'à plus', 'a+', 'bonne journée', 'bonne soirée', 'à la prochaine', 'ciao', "c'est tout pour aujourd'hui, au revoir", 'je dois y aller', 'à demain', 'bonne fin de journée', "j'ai fini, au revoir", 'bonne nuit', 'aurevoir', 'allez, à plus tard'],
    },
    {
      intent: 'builtin.human',
      examples: [
        'je veux parler à un humain',
        "je voudrais parler à quelqu'un",
        'passez-moi un conseiller',
        'je veux parler à une vraie personne',
        'est-ce que je peux parler à un agent ?',
        'mettez-moi en relation avec le service client',
        'un conseiller svp',
        'je ne veux pas parler à un robot',
        'ce bot est nul, je veux un humain',
        "y a-t-il quelqu'un avec qui je peux discuter ?",
        'transférez-moi à un opérateur',
        'opérateur',
        'parler à une personne réelle',
        'je veux un conseiller humain',
        "appelez-moi, je veux parler à quelqu'un",
        "un être humain s'il vous plaît",
        'je souhaite parler à un membre du personnel',
        'je veux parler a quelqun',
      ],
    },
    {
      intent: 'builtin.restart',
      examples: ['recommencer', 'on recommence', 'reprendre depuis le début', 'réinitialiser', 'recommencer à zéro', 'repartir de zéro', 'retour au début', 'menu principal', 'je veux tout recommencer', 'redémarrer la conversation', 'on reprend tout depuis le début', 'revenir au menu', 'on efface tout et on recommence', 'retour au menu principal', 'depuis le début svp', 'recomencer'],
    },
    {
      intent: 'builtin.cancel',
      examples: ['annuler', 'laisse tomber', 'laissez tomber', 'oubliez ça', 'annule', 'stop', 'non, arrête', 'je ne veux plus faire ça', 'finalement non', 'on arrête là', 'arrêtez de me poser des questions', 'abandonner', 'annulez ça', 'tant pis', "j'ai changé d'avis", 'en fait, laisse tomber', 'pas la peine'],
    },
  ],
  // German: "Sie" and "du", with umlauts and without, and the usual regional greetings.
  de: [
    {
      intent: 'builtin.greeting',
      examples: ['hallo', 'guten Tag', 'guten Morgen', 'guten Abend', 'servus', 'moin', 'moin moin', 'grüß Gott', 'hallo, ist da jemand?', 'hallo, ich brauche Hilfe', 'hallo, können Sie mir helfen?', 'hallöchen', 'grüezi', 'halo', 'hallo zusammen', 'guten tach', 'hallo, wie geht es Ihnen?'],
    },
    {
      intent: 'builtin.thanks',
      examples: ['danke', 'vielen Dank', 'danke schön', 'dankeschön', 'danke sehr', 'herzlichen Dank', 'besten Dank', 'danke für die Hilfe', 'vielen Dank, das hat geholfen', 'super, danke', 'perfekt, danke', 'dnake', 'danke!!', 'tausend Dank', 'sehr nett, danke', 'ok danke', 'vielen lieben Dank'],
    },
    {
      intent: 'builtin.goodbye',
      examples: ['tschüss', 'tschüs', 'auf Wiedersehen', 'bis bald', 'bis später', 'bis dann', 'schönen Tag noch', 'einen schönen Abend noch', 'das war alles, tschüss', 'ich muss los', "mach's gut", 'machen Sie es gut', 'bis zum nächsten Mal', 'gute Nacht', 'auf Wiederhören', 'tschö', 'tschuss'],
    },
    {
      intent: 'builtin.human',
      examples: [
        'ich möchte mit einem Menschen sprechen',
        'kann ich mit einer Person sprechen?',
        'verbinden Sie mich mit einem Mitarbeiter',
        'ich brauche einen echten Menschen',
        'ich will mit jemandem reden',
        'bitte an den Kundenservice weiterleiten',
        'einen Mitarbeiter bitte',
        'ich will nicht mit einem Bot reden',
        'dieser Bot ist nutzlos, ich will einen Menschen',
        'gibt es jemanden, mit dem ich chatten kann?',
        'mit einem echten Menschen sprechen',
        'Kundenberater bitte',
        'ich möchte mit einem Berater sprechen',
        'rufen Sie mich an, ich will mit jemandem sprechen',
        'Mensch bitte',
        'kann mir ein Mitarbeiter helfen?',
        'zum Kundendienst bitte',
        'ich möchte mit einem menschen sprechn',
      ],
    },
    {
      intent: 'builtin.restart',
      examples: ['von vorne anfangen', 'neu starten', 'nochmal von vorn', 'zurücksetzen', 'neu beginnen', 'fangen wir von vorne an', 'zurück zum Anfang', 'Hauptmenü', 'ich möchte neu anfangen', 'das Gespräch neu starten', 'alles auf Anfang', 'zurück zum Menü', 'noch mal von vorne bitte', 'von Anfang an', 'starte neu', 'lass uns neu anfangen'],
    },
    {
      intent: 'builtin.cancel',
      examples: ['abbrechen', 'vergiss es', 'egal', 'lass es', 'stopp', 'nein, hör auf', 'ich will das nicht mehr', 'doch nicht', 'vergessen Sie es', 'brich das ab', 'hör auf, mir Fragen zu stellen', 'beenden', 'abbrechen bitte', 'ich habe es mir anders überlegt', 'lassen wir das', 'schon gut, vergiss es', 'abbruch'],
    },
  ],
};

/** Built-in intents for a language; an empty array (never an exception) when there are none for it. */
export function builtinIntentsFor(language: string): TrainingIntent[] {
  const key = (typeof language === 'string' ? language : '').trim().toLowerCase().split(/[-_]/)[0] ?? '';
  if (!Object.prototype.hasOwnProperty.call(BUILTIN_INTENTS, key)) return [];
  const intents = BUILTIN_INTENTS[key as keyof typeof BUILTIN_INTENTS];
  // Hand out copies: callers may append their own examples.
  return intents.map((i) => ({ intent: i.intent, examples: [...i.examples] }));
}
